// A reference automerge-repo client, driven by the Rust interop tests.
//   node peer.mjs create <ws url> <document id>   import a new document under that id, edit it, sync it
//   node peer.mjs read   <ws url> <document id> <key>   wait until the document has <key>, print it as JSON
//   node peer.mjs edit   <ws url> <document id> <risk title> <new title>   edit that risk as a JavaScript app
//     would: the title as a plain string (stored as text), a score as a number, and the
//     controls as a list (a shape the register does not use there); print the risk as JSON
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import * as A from "@automerge/automerge"

const [mode, url, documentId, key] = process.argv.slice(2)
const repo = new Repo({ network: [new WebSocketClientAdapter(url)], sharePolicy: async () => true })
// Rust writes unsigned integers (schema_version, record numbers), which JavaScript reads as BigInt.
const json = value => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? Number(v) : v))
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const deadline = Date.now() + 20000

if (mode === "create") {
  const handle = repo.import(A.save(A.from({ title: "Created in JavaScript", items: [] })), { docId: documentId })
  handle.change(doc => {
    doc.items.push("first")
    doc.count = 1
  })
  handle.change(doc => {
    doc.items.push("second")
    doc.count = 2
  })
  // Give the sync loop time to deliver the changes, then report what was written.
  await sleep(2000)
  console.log(json(handle.doc()))
} else if (mode === "read") {
  let doc
  while (Date.now() < deadline) {
    try {
      const handle = await repo.find(`automerge:${documentId}`)
      doc = handle.doc()
      if (doc && doc[key] !== undefined) break
    } catch (e) {
      // Unavailable so far: ask again.
    }
    await sleep(200)
  }
  console.log(json(doc ?? null))
} else if (mode === "edit") {
  const [title, newTitle] = process.argv.slice(5)
  let handle
  while (Date.now() < deadline) {
    try {
      handle = await repo.find(`automerge:${documentId}`)
      if (handle.doc()?.risks) break
    } catch (e) {
      // Unavailable so far: ask again.
    }
    await sleep(200)
  }
  const id = Object.keys(handle.doc().risks).find(k => String(handle.doc().risks[k].title) === title)
  if (!id) {
    console.error(`no risk titled ${title}`)
    process.exit(1)
  }
  handle.change(doc => {
    doc.risks[id].title = newTitle
    doc.risks[id].inherent_likelihood = 4
    doc.risks[id].controls = ["Second provider", "Offline codes"]
  })
  await sleep(2000)
  console.log(json({ id, ...handle.doc().risks[id] }))
} else {
  console.error(`unknown mode ${mode}`)
  process.exit(2)
}
await repo.shutdown?.()
process.exit(0)
