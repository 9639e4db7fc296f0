import { describe, expect, it } from "vitest";
import { maySubscribe, publishRefusal, type AclScope, type Principal } from "../auth/broker-acl.js";

const scope: AclScope = {
  prefix: "camgw",
  deviceId: "porch",
  homeAssistant: { prefix: "homeassistant", account: "hass" },
};
const device: Principal = { kind: "device", deviceId: "porch", username: "camgw-device-porch" };
const hass: Principal = { kind: "viewer", name: "hass" };
const viewer: Principal = { kind: "viewer", name: "alice" };

describe("the broker ACL for Home Assistant's topics", () => {
  it("lets the device publish its own discovery configs, state and (unretained) snapshots only", () => {
    const ok = (topic: string, retain: boolean): boolean =>
      publishRefusal(scope, device, topic, retain) === undefined;
    expect(ok("homeassistant/sensor/porch/viewers/config", true)).toBe(true);
    expect(ok("homeassistant/camera/porch/snapshot/config", true)).toBe(true);
    expect(ok("camgw/porch/ha/state", true)).toBe(true);
    expect(ok("camgw/porch/ha/snapshot", false)).toBe(true);
    expect(ok("camgw/porch/ha/snapshot", true)).toBe(false);
    expect(ok("homeassistant/sensor/yard/viewers/config", true)).toBe(false);
    expect(ok("homeassistant/light/porch/lamp/config", true)).toBe(false);
    expect(ok("homeassistant/status", false)).toBe(false);
    expect(ok("camgw/porch/ha/other", false)).toBe(false);
    expect(ok("camgw/yard/ha/state", true)).toBe(false);
  });

  it("lets only the named account read them, and publish nothing there but Home Assistant's birth", () => {
    for (const filter of [
      "homeassistant/#",
      "homeassistant/+/+/+/config",
      "camgw/porch/ha/#",
      "camgw/+/ha/state",
    ]) {
      expect(maySubscribe(scope, hass, filter)).toBe(true);
      expect(maySubscribe(scope, viewer, filter)).toBe(false);
      expect(maySubscribe(scope, device, filter)).toBe(false);
    }
    expect(maySubscribe(scope, hass, "camgw/#")).toBe(false);
    expect(maySubscribe(scope, hass, "#")).toBe(false);
    expect(publishRefusal(scope, hass, "homeassistant/status", false)).toBeUndefined();
    expect(publishRefusal(scope, viewer, "homeassistant/status", false)).toMatch(
      /may publish only/,
    );
    expect(publishRefusal(scope, hass, "homeassistant/sensor/porch/x/config", true)).toMatch(
      /may publish only/,
    );
  });

  it("gives the account nothing while the feature is off (no account in the scope)", () => {
    const off: AclScope = { ...scope, homeAssistant: { prefix: "homeassistant", account: null } };
    expect(maySubscribe(off, hass, "homeassistant/#")).toBe(false);
    expect(
      publishRefusal(off, device, "homeassistant/sensor/porch/viewers/config", true),
    ).toBeUndefined();
  });
});
