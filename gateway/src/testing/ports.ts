/**
 * Ports for the real servers tests start on loopback (Mosquitto, coturn,
 * Janus, the gateway itself): a port is found free by binding it and letting
 * it go, and a server is up once it accepts a TCP connection.
 */
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer, type AddressInfo } from "node:net";

/** A free TCP port on 127.0.0.1 (bound then released; fine for tests on loopback). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A port free for both TCP and UDP on 127.0.0.1 (a TURN or STUN server listens on both). */
export async function freeTcpUdpPort(): Promise<number> {
  for (;;) {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const udp = createSocket("udp4");
    const free = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (free) udp.close();
    server.close();
    if (free) return port;
  }
}

/** Whether a TCP connection to host:port is accepted (then closed at once). */
export function acceptsTcp(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
