import { listDevices, type DeviceInfo } from "../../../native/lib/index.js";
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
  if (devices.length === 0) {
    process.stdout.write(
      "No V4L2 devices found. On a machine without a camera, try `npx firmware-sim exec -- camgw devices`.\n",
    );
    return 0;
  }
  for (const d of devices) process.stdout.write(describeDevice(d));
  return 0;
}

function describeDevice(d: DeviceInfo): string {
  const kind =
    d.kind === "m2m-encoder"
      ? d.isPiEncoder
        ? "H.264 encoder (Raspberry Pi)"
        : "H.264 encoder"
      : d.kind;
  const lines = [`${d.path}: ${d.card} [${d.driver}, ${d.bus}] ${kind}`];
  for (const f of d.formats) {
    const sizes = f.sizes.map((s) => {
      const rates = s.intervals
        .map((i) => `${Math.round((i.denominator / i.numerator) * 100) / 100}`)
        .join("/");
      return `${s.width}x${s.height}${rates ? `@${rates}` : ""}`;
    });
    lines.push(`  ${f.fourcc} ${f.description}${sizes.length ? `: ${sizes.join(" ")}` : ""}`);
  }
  if (d.inputFormats.length)
    lines.push(`  takes ${d.inputFormats.map((f) => f.fourcc).join(", ")}`);
  return lines.join("\n") + "\n";
}
