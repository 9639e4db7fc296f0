/**
 * The picture size an H.264 sequence parameter set declares, cropping
 * included (ITU-T H.264 7.3.2.1.1 and 7.4.2.1.1). Encoders code whole 16x16
 * macroblocks, so 1080-row video is coded as 1088 rows with
 * frame_crop_bottom_offset = 4 (8 rows); a decoder that reports the coded
 * size (h264bsd does) says 1920x1088 where every player shows 1920x1080.
 */

export interface SpsSize {
  /** The coded size: whole macroblocks. */
  codedWidth: number;
  codedHeight: number;
  /** The frame cropping rectangle, in luma samples. */
  cropLeft: number;
  cropTop: number;
  /** The size after cropping: what a player shows. */
  width: number;
  height: number;
}

/** The RBSP of a NAL unit: the payload with emulation prevention bytes (00 00 03) removed (7.4.1). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

/** Reads bits most significant first, with the Exp-Golomb codes of 9.1. */
class BitReader {
  #bit = 0;
  constructor(private readonly bytes: Uint8Array) {}

  u(bits: number): number {
    let v = 0;
    for (let i = 0; i < bits; i++) {
      const byte = this.bytes[this.#bit >> 3];
      if (byte === undefined) throw new RangeError("SPS ends early");
      v = v * 2 + ((byte >> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return v;
  }

  /** ue(v): unsigned Exp-Golomb. */
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new RangeError("bad Exp-Golomb code in SPS");
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** se(v): signed Exp-Golomb (Table 9-3). */
  se(): number {
    const k = this.ue();
    return k % 2 ? (k + 1) / 2 : -k / 2;
  }
}

/** profile_idc values whose SPS carries chroma_format_idc and friends (7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  // 7.3.2.1.1.1: delta_scale values until nextScale becomes 0.
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      next = (last + r.se() + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/**
 * Parses a sequence parameter set NAL unit (header byte included, type 7)
 * up to its cropping fields. Throws RangeError on a truncated or malformed SPS.
 */
export function parseSpsSize(nal: Uint8Array): SpsSize {
  if (((nal[0] ?? 0) & 0x1f) !== 7) throw new RangeError("not an SPS NAL unit");
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = r.u(8);
  r.u(16); // constraint_set flags, reserved_zero_2bits, level_idc
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.u(1);
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u(1)) {
      // seq_scaling_matrix_present_flag
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) if (r.u(1)) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.u(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.u(1); // mb_adaptive_frame_field_flag
  r.u(1); // direct_8x8_inference_flag
  const codedWidth = widthMbs * 16;
  const codedHeight = (2 - frameMbsOnly) * heightMapUnits * 16;
  let crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.u(1)) crop = { left: r.ue(), right: r.ue(), top: r.ue(), bottom: r.ue() };
  // CropUnitX/Y, equations 7-19 to 7-22: ChromaArrayType 0 (monochrome or
  // separate planes) crops in luma samples, else in chroma samples.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidth = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeight = chromaArrayType === 1 ? 2 : 1;
  const unitX = chromaArrayType === 0 ? 1 : subWidth;
  const unitY = (chromaArrayType === 0 ? 1 : subHeight) * (2 - frameMbsOnly);
  const width = codedWidth - unitX * (crop.left + crop.right);
  const height = codedHeight - unitY * (crop.top + crop.bottom);
  if (width <= 0 || height <= 0) throw new RangeError("SPS crops the whole picture away");
  return {
    codedWidth,
    codedHeight,
    cropLeft: unitX * crop.left,
    cropTop: unitY * crop.top,
    width,
    height,
  };
}
