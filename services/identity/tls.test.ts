import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import * as tls from "node:tls";
import { createPartyCa, issueNodeCertificate, verifyPeerCertificate } from "./pki.ts";

describe("node certificates in mutual TLS", async () => {
  const now = new Date();
  const vnCa = await createPartyCa({ party: "VN-MPS", displayName: "Viet Nam", now, bits: 2048 });
  const cnCa = await createPartyCa({ party: "CN-MPS", displayName: "China", now, bits: 2048 });
  const vnNode = await issueNodeCertificate(vnCa, { party: "VN-MPS", now });
  const cnNode = await issueNodeCertificate(cnCa, { party: "CN-MPS", now });

  async function handshake(host: string, servername?: string, client = cnNode): Promise<string> {
    const server = tls.createServer({ cert: vnNode.certPem, key: vnNode.keyPem, ca: [cnCa.certPem], requestCert: true, rejectUnauthorized: true }, (socket) => {
      const peer = socket.getPeerX509Certificate();
      socket.end(peer ? verifyPeerCertificate(peer, [{ party: "CN-MPS", caCertPem: cnCa.certPem }], new Date(), { purpose: "clientAuth" }) : "none");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const socket = tls.connect({ host, port, ...(servername ? { servername } : {}), cert: client.certPem, key: client.keyPem, ca: [vnCa.certPem] });
      socket.on("error", (error) => socket.emit("end", error));
      let data = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => (data += chunk));
      await once(socket, "end");
      return data;
    } finally {
      server.close();
    }
  }

  it("connects over 127.0.0.1 with both sides verified by OpenSSL, and the server learns the client's party", async () => {
    assert.equal(await handshake("127.0.0.1"), "CN-MPS");
  });

  it("connects by the name localhost", async () => {
    assert.equal(await handshake("127.0.0.1", "localhost"), "CN-MPS");
  });

  it("refuses a client whose certificate is not from a trusted partner CA", async () => {
    const stranger = await issueNodeCertificate(await createPartyCa({ party: "KH-MOI", displayName: "Cambodia", now, bits: 2048 }), { party: "KH-MOI", now });
    assert.equal(await handshake("127.0.0.1", undefined, stranger), "", "the server sends nothing to an unverified client");
  });
});
