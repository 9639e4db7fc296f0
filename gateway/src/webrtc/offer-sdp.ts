import { SignalingError } from "../errors.js";

/**
 * Just enough SDP (RFC 8866) to judge a viewer's offer before werift sees
 * it: does it parse, which media sections it has, and which codecs each
 * offers (a=rtpmap / a=fmtp, RFC 8866 section 6.6 and 6.15).
 */

export interface SdpCodec {
  readonly payloadType: number;
  /** Encoding name as written, e.g. "H264". */
  readonly name: string;
  readonly clockRate: number;
  /** Audio channels from rtpmap (e.g. opus/48000/2), if given. */
  readonly channels: number | undefined;
  /** fmtp parameters, keys lower-cased. */
  readonly parameters: ReadonlyMap<string, string>;
}

export interface SdpMediaSection {
  readonly kind: string;
  readonly port: number;
  readonly formats: readonly string[];
  readonly mid: string | undefined;
  /** sendrecv / sendonly / recvonly / inactive (the offerer's view). */
  readonly direction: string;
  readonly codecs: readonly SdpCodec[];
  /** Line range [start, end) of this section in `OfferSdp.lines`. */
  readonly startLine: number;
  readonly endLine: number;
}

export interface OfferSdp {
  readonly lines: readonly string[];
  readonly media: readonly SdpMediaSection[];
}

const LINE = /^[a-z]=/;
const MEDIA = /^m=([a-z]+) (\d+)(?:\/\d+)? (\S+)((?: \S+)+)$/;
const RTPMAP = /^a=rtpmap:(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?/;
const FMTP = /^a=fmtp:(\d+) (.*)$/;
/**
 * An RTP payload type as an m= line lists it: a decimal 0-127 (RFC 3550
 * 5.1, 7 bits). Number() alone would read "0124", "0x7c", "1e2" and even ""
 * as one, naming a codec the offer never listed (found by fuzzing,
 * docs/fuzzing.md).
 */
const PAYLOAD_TYPE = /^(?:\d|[1-9]\d|1[01]\d|12[0-7])$/;
const DIRECTIONS = new Set(["sendrecv", "sendonly", "recvonly", "inactive"]);

function badRequest(message: string, line?: number): SignalingError {
  return new SignalingError("bad-request", message, line === undefined ? {} : { line });
}

/** Parses an offer; throws SignalingError("bad-request") when it is not SDP. */
export function parseOfferSdp(sdp: string): OfferSdp {
  const lines = sdp.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines[0] !== "v=0") throw badRequest("offer SDP must start with v=0", 1);
  lines.forEach((line, i) => {
    if (!LINE.test(line)) throw badRequest(`offer SDP line ${i + 1} is not <type>=<value>`, i + 1);
  });
  if (!lines.some((l) => l.startsWith("o="))) throw badRequest("offer SDP has no o= line");

  let sessionDirection = "sendrecv";
  const media: SdpMediaSection[] = [];
  // One pass for the m= lines: an offer of many sections must cost linear
  // time (issue 10 sent 600), however the plan refuses it afterwards.
  const starts: number[] = [];
  lines.forEach((l, i) => {
    if (l.startsWith("m=")) starts.push(i);
  });
  for (let i = 1; i < (starts[0] ?? lines.length); i++) {
    const attr = lines[i]?.slice(2) ?? "";
    if (DIRECTIONS.has(attr)) sessionDirection = attr;
  }
  starts.forEach((start, k) => {
    media.push(parseSection(lines, start, starts[k + 1] ?? lines.length, sessionDirection));
  });
  return { lines, media };
}

function parseSection(
  lines: readonly string[],
  start: number,
  end: number,
  sessionDirection: string,
): SdpMediaSection {
  const m = MEDIA.exec(lines[start] ?? "");
  if (!m) throw badRequest(`malformed m= line: ${lines[start] ?? ""}`, start + 1);
  const [, kind = "", port = "0", , formatText = ""] = m;
  const formats = formatText.trim().split(" ");
  const names = new Map<
    number,
    { name: string; clockRate: number; channels: number | undefined }
  >();
  const params = new Map<number, Map<string, string>>();
  let mid: string | undefined;
  let direction = sessionDirection;
  for (let i = start + 1; i < end; i++) {
    const line = lines[i] ?? "";
    const rtpmap = RTPMAP.exec(line);
    if (rtpmap) {
      names.set(Number(rtpmap[1]), {
        name: rtpmap[2] ?? "",
        clockRate: Number(rtpmap[3]),
        channels: rtpmap[4] === undefined ? undefined : Number(rtpmap[4]),
      });
      continue;
    }
    const fmtp = FMTP.exec(line);
    if (fmtp) {
      const map = new Map<string, string>();
      for (const part of (fmtp[2] ?? "").split(";")) {
        const eq = part.indexOf("=");
        if (eq > 0) map.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
      }
      params.set(Number(fmtp[1]), map);
      continue;
    }
    if (line.startsWith("a=mid:")) mid = line.slice(6).trim();
    else if (DIRECTIONS.has(line.slice(2))) direction = line.slice(2);
  }
  const codecs: SdpCodec[] = [];
  for (const format of formats) {
    if (!PAYLOAD_TYPE.test(format)) continue;
    const payloadType = Number(format);
    const rtp = names.get(payloadType);
    if (!rtp) continue;
    codecs.push({ payloadType, ...rtp, parameters: params.get(payloadType) ?? new Map() });
  }
  return {
    kind,
    port: Number(port),
    formats,
    mid,
    direction,
    codecs,
    startLine: start,
    endLine: end,
  };
}

/** A codec's fmtp parameters as an a=fmtp value ("k=v;k=v"); "" when it has none. */
export function formatFmtp(codec: SdpCodec): string {
  return [...codec.parameters].map(([k, v]) => `${k}=${v}`).join(";");
}

/** Codecs that only repair or protect another one (never a section's main codec). */
const REPAIR_CODECS = new Set(["rtx", "red", "ulpfec", "flexfec-03", "cn", "telephone-event"]);

/** The offered RTX (RFC 4588) repair codec for `codec`: an rtx type whose apt names it. */
export function rtxFor(section: SdpMediaSection, codec: SdpCodec): SdpCodec | undefined {
  return section.codecs.find(
    (c) => c.name.toLowerCase() === "rtx" && c.parameters.get("apt") === String(codec.payloadType),
  );
}

/** The first media codec of a section, skipping rtx/red/FEC/comfort noise/DTMF. */
export function primaryCodec(section: SdpMediaSection): SdpCodec | undefined {
  return section.codecs.find((c) => !REPAIR_CODECS.has(c.name.toLowerCase()));
}

/**
 * The offer with media sections narrowed to the payload types chosen for
 * each (the codec, and its RTX repair type where there is one): the m= line
 * lists only those, in the order given, and rtpmap/fmtp/rtcp-fb lines of
 * the others go. werift matches codecs by MIME type only and sends with the first one
 * left, so this is how the chosen H.264 variant (packetization-mode=1, a
 * compatible profile) becomes the one it uses; other sections (audio, a
 * second video) are narrowed to a codec the session then declares, because
 * werift refuses the whole offer when any section has no codec it knows and
 * cannot reject a single section (werift 0.24.4; docs/werift.md "Codec
 * choice by narrowing the offer" and "Sections we do not send in").
 */
export function narrowOffer(
  offer: OfferSdp,
  choices: ReadonlyMap<SdpMediaSection, readonly number[]>,
): string {
  const out: string[] = [];
  const sectionAt = (i: number): SdpMediaSection | undefined =>
    [...choices.keys()].find((m) => i >= m.startLine && i < m.endLine);
  offer.lines.forEach((line, i) => {
    const section = sectionAt(i);
    const chosen = section === undefined ? undefined : choices.get(section);
    if (section === undefined || chosen === undefined) {
      out.push(line);
      return;
    }
    const kept = chosen.map(String);
    if (i === section.startLine) {
      out.push([...line.split(" ").slice(0, 3), ...kept].join(" "));
      return;
    }
    const perFormat = /^a=(?:rtpmap|fmtp|rtcp-fb):(\S+) /.exec(line);
    if (perFormat?.[1] !== undefined && perFormat[1] !== "*" && !kept.includes(perFormat[1]))
      return;
    out.push(line);
  });
  return out.join("\r\n") + "\r\n";
}
