// The reference automerge-repo sync server (WebSocket + NodeFS storage), for the interop
// tests: listens on 127.0.0.1 on a free port and prints that port.
//   node server.mjs <storage directory>
import { Repo } from "@automerge/automerge-repo"
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import { WebSocketServer } from "ws"

const socket = new WebSocketServer({ host: "127.0.0.1", port: 0 })
const repo = new Repo({
  network: [new NodeWSServerAdapter(socket)],
  storage: new NodeFSStorageAdapter(process.argv[2]),
  peerId: "reference-sync-server",
  // A sync server does not offer documents to peers that have not asked for them.
  sharePolicy: async () => false,
})

// The repo attaches to the socket only once its storage id is known; a peer that joins
// before then is ignored. So the port is announced after that.
await new Promise(resolve => socket.on("listening", resolve))
await repo.storageId()
await new Promise(resolve => setTimeout(resolve, 200))
console.log(`listening on ${socket.address().port}`)
