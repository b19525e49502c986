// As next-auth/providers/nodemailer does: Auth.js's own provider.
export { default } from "@auth/core/providers/nodemailer"
