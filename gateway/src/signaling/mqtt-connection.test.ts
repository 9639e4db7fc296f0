import { describe, expect, it } from "vitest";
import {
  applyBackoff,
  connectNoDelay,
  describeConnectError,
  redact,
  tlsClientOptions,
} from "./mqtt-connection.js";

describe("applyBackoff", () => {
  it("doubles the retry delay up to the ceiling, with jitter between half and all of it", async () => {
    // A real MQTT.js client retrying a port where nothing listens.
    const client = connectNoDelay("mqtt://127.0.0.1:1", { reconnectPeriod: 1000 });
    applyBackoff(client, { minMs: 10, maxMs: 80 });
    const periods: number[] = [];
    await new Promise<void>((resolve) => {
      client.on("reconnect", () => {
        periods.push(client.options.reconnectPeriod ?? -1);
        if (periods.length === 5) resolve();
      });
    });
    await client.endAsync(true);
    const ceilings = [20, 40, 80, 80, 80];
    periods.forEach((period, i) => {
      const ceiling = ceilings[i] ?? 0;
      expect(period).toBeGreaterThanOrEqual(ceiling / 2);
      expect(period).toBeLessThanOrEqual(ceiling);
    });
  });
});

describe("describeConnectError", () => {
  it("reads CONNACK refusals as fatal unauthorized errors", () => {
    const err = Object.assign(new Error("Connection refused: Not authorized"), { code: 5 });
    const { error, fatal } = describeConnectError(err, "mqtts://cam:pw@broker:8883");
    expect(fatal).toBe(true);
    expect(error.code).toBe("unauthorized");
    expect(error.message).toBe(
      "MQTT broker mqtts://cam:***@broker:8883 refused the connection: not authorized (CONNACK 5)",
    );
  });

  it("reads certificate failures as fatal tls errors", () => {
    const err = Object.assign(new Error("self-signed certificate"), {
      code: "DEPTH_ZERO_SELF_SIGNED_CERT",
    });
    expect(describeConnectError(err, "mqtts://b").error.code).toBe("tls");
  });

  it("reads refused TCP connections as retryable", () => {
    const err = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(describeConnectError(err, "mqtt://b")).toMatchObject({
      fatal: false,
      error: { code: "unreachable" },
    });
  });
});

describe("tlsClientOptions", () => {
  it("names the CA file it cannot read", () => {
    expect(() => tlsClientOptions({ caFile: "/nonexistent/ca.pem" })).toThrow(
      /\/nonexistent\/ca.pem/,
    );
  });

  it("passes rejectUnauthorized through", () => {
    expect(tlsClientOptions({ rejectUnauthorized: false })).toEqual({ rejectUnauthorized: false });
  });
});

describe("redact", () => {
  it("hides the password in a broker URL", () => {
    expect(redact("mqtt://u:secret@h:1883")).toBe("mqtt://u:***@h:1883");
    expect(redact("not a url")).toBe("not a url");
  });
});
