/**
 * The lab's own certificate authority, made fresh by openssl for every lab
 * (EC P-256, valid two days), and server certificates it signs for the
 * lab's services by IP address, so a client given the CA file can check
 * `turns:198.18.0.2:5349` properly rather than accepting any certificate.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { mustRun } from "./shell.js";

export interface ServerCertificate {
  certFile: string;
  keyFile: string;
}

export class LabCa {
  private constructor(
    private readonly dir: string,
    /** PEM file of the CA certificate: what clients trust. */
    readonly caFile: string,
    private readonly keyFile: string,
  ) {}

  static async create(dir: string): Promise<LabCa> {
    const caFile = join(dir, "lab-ca.pem");
    const keyFile = join(dir, "lab-ca.key");
    await mustRun("lab CA", "openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=camgw network lab CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-keyout",
      keyFile,
      "-out",
      caFile,
    ]);
    return new LabCa(dir, caFile, keyFile);
  }

  /** A certificate for `name` at these addresses (subjectAltName IP and DNS entries). */
  async issue(name: string, addresses: readonly string[]): Promise<ServerCertificate> {
    const p = (ext: string): string => join(this.dir, `${name}.${ext}`);
    await mustRun(`certificate for ${name}`, "openssl", [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      `/CN=${name}.camgw.lab`,
      "-keyout",
      p("key"),
      "-out",
      p("csr"),
    ]);
    const san = [...addresses.map((a) => `IP:${a}`), `DNS:${name}.camgw.lab`].join(",");
    await writeFile(
      p("ext"),
      `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
    );
    await mustRun(`certificate for ${name}`, "openssl", [
      "x509",
      "-req",
      "-in",
      p("csr"),
      "-CA",
      this.caFile,
      "-CAkey",
      this.keyFile,
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      p("ext"),
      "-out",
      p("pem"),
    ]);
    return { certFile: p("pem"), keyFile: p("key") };
  }
}
