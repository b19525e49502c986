// Stands in for the `next-auth` package, which needs Next.js itself: NextAuth(config) returns
// route handlers that run Auth.js (`@auth/core`, the library next-auth wraps) with the
// settings next-auth takes from the environment.
import { Auth } from "@auth/core"

export default function NextAuth(config) {
  const settings = {
    basePath: "/api/auth",
    secret: process.env.AUTH_SECRET,
    trustHost: true,
    ...config,
  }
  const handler = (request) => Auth(request, settings)
  return { handlers: { GET: handler, POST: handler } }
}
