// The Auth.js half of a Next.js app set up as docs/identity.md says. The test bundles this
// file with the doc's own prisma.ts, auth-adapter.ts and auth.ts, then runs it on Node.
//
// /api/auth/*          Auth.js, through the handlers auth.ts exports (the app's route handler)
// POST /adapter/<name>  one call of the wrapped adapter: a JSON array of arguments in, its
//                      JSON result out; date fields travel as ISO strings
import { createServer } from "node:http"
import { PanamiaAdapter } from "./auth-adapter"
import { handlers } from "./auth"
import { prisma } from "./prisma"

const adapter = PanamiaAdapter(prisma)
const DATE_FIELDS = new Set(["expires", "emailVerified"])

function reviveDates(key, value) {
  return DATE_FIELDS.has(key) && typeof value === "string" ? new Date(value) : value
}

async function callAdapter(name, body) {
  const args = JSON.parse(body || "[]", reviveDates)
  return (await adapter[name](...args)) ?? null
}

async function callAuth(req, body) {
  const request = new Request(new URL(req.url, `http://${req.headers.host}`), {
    method: req.method,
    headers: Object.entries(req.headers).filter(([, value]) => typeof value === "string"),
    body: ["GET", "HEAD"].includes(req.method) ? undefined : body,
  })
  return req.method === "POST" ? handlers.POST(request) : handlers.GET(request)
}

const server = createServer(async (req, res) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const body = Buffer.concat(chunks).toString()
  try {
    if (req.url.startsWith("/adapter/")) {
      const result = await callAdapter(req.url.slice("/adapter/".length), body)
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result))
      return
    }
    const response = await callAuth(req, body)
    const headers = Object.fromEntries(response.headers)
    headers["set-cookie"] = response.headers.getSetCookie()
    res.writeHead(response.status, headers).end(Buffer.from(await response.arrayBuffer()))
  } catch (error) {
    res.writeHead(500, { "content-type": "text/plain" }).end(String(error?.stack ?? error))
  }
})

server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }))
})
