import {
  findCamera,
  listDevices,
  type DeviceInfo,
  type FormatInfo,
} from "../../../native/lib/index.js";
import { parseOrExplain } from "../cli-args.js";

/** `camgw devices [--json]`: cameras and encoders the native addon finds. */
export function devicesCommand(argv: string[]): number {
  const { values } = parseOrExplain(
    { args: argv, options: { json: { type: "boolean" } }, strict: true },
    "devices",
  );
  const devices = listDevices();
  if (values.json) {
    process.stdout.write(JSON.stringify(devices, null, 2) + "\n");
    return 0;
  }
  process.stdout.write(describeDevices(devices));
  return 0;
}

/** The listing for a person: cameras, encoders (x264 included), and what `auto` picks. */
export function describeDevices(devices: DeviceInfo[]): string {
  const cameras = devices.filter((d) => d.kind === "capture");
  const encoders = m2mEncoders(devices);
  const others = devices.filter((d) => d.kind === "other");
  const out: string[] = ["Cameras:"];
  if (cameras.length === 0) {
    out.push(
      "  none found. Without a camera, `camgw run --source sim` streams from the virtual board;",
      "  `npx firmware-sim exec -- camgw devices` lists the virtual board's devices.",
    );
  }
  for (const d of cameras) out.push(...describeNode(d, ""));
  out.push("", "H.264 encoders:");
  for (const d of encoders) {
    out.push(...describeNode(d, d.isPiEncoder ? " (Raspberry Pi hardware)" : " (hardware)"));
  }
  out.push("  x264: software, built into camgw (takes YU12, NV12, YUYV)");
  if (others.length > 0) {
    out.push("", "Other video nodes:");
    for (const d of others) out.push(`  ${d.path}: ${d.card} [${d.driver}, ${d.bus}]`);
  }
  const camera = findCamera(devices);
  if (camera) {
    const choice = autoEncoder(camera, devices);
    out.push("", `--source auto uses ${camera.path}; --encoder auto would use ${choice}.`);
  } else {
    out.push("", "--source auto would use the virtual board (no camera here).");
  }
  return out.join("\n") + "\n";
}

function describeNode(d: DeviceInfo, kind: string): string[] {
  const lines = [`  ${d.path}: ${d.card} [${d.driver}, ${d.bus}]${kind}`];
  for (const f of d.formats) lines.push(`    ${describeFormat(f)}`);
  if (d.inputFormats.length)
    lines.push(`    takes ${d.inputFormats.map((f) => f.fourcc).join(", ")}`);
  return lines;
}

function describeFormat(f: FormatInfo): string {
  const sizes = f.sizes.map((s) => {
    const rates = s.intervals
      .map((i) => `${Math.round((i.denominator / i.numerator) * 100) / 100}`)
      .join("/");
    return `${s.width}x${s.height}${rates ? `@${rates}` : ""}`;
  });
  const range = f.sizeRange
    ? ` ${f.sizeRange.minWidth}x${f.sizeRange.minHeight} to ${f.sizeRange.maxWidth}x${f.sizeRange.maxHeight}`
    : "";
  return `${f.fourcc} ${f.description}${sizes.length ? `: ${sizes.join(" ")}` : range ? `:${range}` : ""}`;
}

/** Multi-planar M2M encoders (the only kind the addon drives), the Pi's first. */
function m2mEncoders(devices: DeviceInfo[]): DeviceInfo[] {
  return devices
    .filter((d) => d.kind === "m2m-encoder" && d.multiplanar)
    .sort((a, b) => Number(b.isPiEncoder) - Number(a.isPiEncoder));
}

// Raw formats in the addon's order of preference for the hardware encoder.
const HARDWARE_ORDER = ["NV12", "YU12", "YUYV"];
const SOFTWARE_FORMATS = ["YU12", "NV12", "YUYV"];

/**
 * What `--encoder auto` picks for a camera, as native/src/encoder_choice.cc
 * does it: the camera's own H.264, else the hardware encoder when it takes
 * one of the camera's raw formats, else x264. (At start-up the addon also
 * falls back to x264 when the hardware encoder refuses the size.)
 */
export function autoEncoder(camera: DeviceInfo, devices: DeviceInfo[]): string {
  const offers = new Set(camera.formats.map((f) => f.fourcc));
  if (offers.has("H264")) return "passthrough (the camera's own H.264)";
  const hardware = m2mEncoders(devices)[0];
  if (hardware) {
    const takes = new Set(hardware.inputFormats.map((f) => f.fourcc));
    const format = HARDWARE_ORDER.find((f) => offers.has(f) && takes.has(f));
    if (format) return `hardware, ${hardware.path} (${hardware.card}) fed ${format}`;
  }
  const format = SOFTWARE_FORMATS.find((f) => offers.has(f));
  if (format) return `software, x264 fed ${format}${hardware ? "" : " (no hardware encoder here)"}`;
  return "nothing: the camera offers no format an encoder here takes";
}
