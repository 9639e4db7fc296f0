import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { backoffDelay, describeConnectError, redact, tlsClientOptions } from "./mqtt-connection.js";

describe("backoffDelay", () => {
  it("doubles the retry delay from the minimum up to the ceiling, with jitter between half and all of it", () => {
    const options = { minMs: 10, maxMs: 80 };
    const ceilings = [10, 20, 40, 80, 80, 80];
    ceilings.forEach((ceiling, i) => {
      expect(backoffDelay(i + 1, options, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(i + 1, options, () => 0.999_999)).toBe(ceiling);
    });
  });

  it("starts at 500 ms and stops doubling at 30 s by default, even after a very long outage", () => {
    expect(backoffDelay(1, {}, () => 0.999_999)).toBe(500);
    expect(backoffDelay(10_000, {}, () => 0.999_999)).toBe(30_000);
    expect(backoffDelay(10_000, {}, () => 0)).toBe(15_000);
  });
});

describe("describeConnectError", () => {
  it("reads CONNACK refusals as fatal refused broker errors", () => {
    const err = Object.assign(new Error("Connection refused: Not authorized"), { code: 5 });
    const { error, fatal } = describeConnectError(err, "mqtts://cam:pw@broker:8883");
    expect(fatal).toBe(true);
    expect(error.name).toBe("BrokerError");
    expect(error.code).toBe("refused");
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
  it("names the CA file it cannot read, as a config error", () => {
    expect(() => tlsClientOptions({ caFile: "/nonexistent/ca.pem" })).toThrow(ConfigError);
    expect(() => tlsClientOptions({ caFile: "/nonexistent/ca.pem" })).toThrow(
      /\/nonexistent\/ca.pem \(--broker-ca\)/,
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
