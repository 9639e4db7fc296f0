import { describe, expect, it } from "vitest";
import { runProgram } from "./test-support.js";

interface Frame {
  seq: number;
  ts_us: number;
  bytes: number;
  flags: number;
  stamp_us: number;
}
interface Capture {
  width: number;
  height: number;
  fourcc: string;
  fps_num: number;
  fps_den: number;
  sizeimage: number;
  bytesperline: number;
  frames: Frame[];
  t0_real_us: number;
  t1_real_us: number;
  eagain: number;
}

const V4L2_BUF_FLAG_KEYFRAME = 0x8;
const V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC = 0x2000;

/** Device-reported spacing per sensor frame (a sequence gap spans several periods). */
function spacingErrorsUs(frames: Frame[], periodUs: number): number[] {
  const errs: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1] as Frame;
    const b = frames[i] as Frame;
    errs.push(Math.abs(b.ts_us - a.ts_us - (b.seq - a.seq) * periodUs));
  }
  return errs;
}

describe("virtual camera /dev/video0", () => {
  it("negotiates formats like a driver: nearest size, substitute fourcc, EINVAL for a wrong type", async () => {
    const r = await runProgram<Record<string, string | number>>("cam_errors", ["/dev/video0"]);
    expect(r.formats).toBe("YUYVNV12YU12");
    expect(r.sizes).toBe(3);
    expect(r.intervals_1080p).toBe(2);
    expect([r.try_odd_size_w, r.try_odd_size_h, r.try_odd_size_fourcc]).toEqual([
      1280,
      720,
      "NV12",
    ]);
    expect(r.try_odd_size_sizeimage).toBe((1280 * 720 * 3) / 2);
    expect(r.try_unknown_fourcc_got).toBe("YUYV");
    expect(r.try_wrong_type).toBe("EINVAL");
    expect(r.g_fmt_mplane).toBe("EINVAL");
    expect(r.s_parm_20_got).toBe(15);
    expect(r.s_parm_10_got).toBe(15);
  });

  it("answers EBUSY, EAGAIN and EINVAL where a V4L2 driver does", async () => {
    const r = await runProgram<Record<string, string | number>>("cam_errors", ["/dev/video0"]);
    expect(r).toMatchObject({
      dqbuf_not_streaming: "EINVAL",
      poll_idle_pollerr: 1,
      reqbufs_userptr: "EINVAL",
      reqbufs_a: "OK",
      reqbufs_second_fd: "EBUSY",
      s_fmt_while_busy: "EBUSY",
      querybuf_bad_index: "EINVAL",
      qbuf_bad_index: "EINVAL",
      mmap_private_fails: 1,
      mmap_bad_offset_fails: 1,
      qbuf_twice: "EINVAL",
      streamon_other_fd: "EBUSY",
      streamon: "OK",
      dqbuf_nonblock_early: "EAGAIN",
      dqbuf_other_fd: "EBUSY",
      dqbuf: "OK",
      dqbuf_mono_flag: 1,
      reqbufs_while_streaming: "EBUSY",
      reqbufs_0: "OK",
      reqbufs_second_fd_after_release: "OK",
      unknown_ioctl: "ENOTTY",
    });
  });

  it("exports a buffer (EXPBUF) as an fd that maps the same pixels", async () => {
    const r = await runProgram<Record<string, string | number>>("cam_errors", ["/dev/video0"]);
    expect(r.expbuf).toBe("OK");
    expect(r.expbuf_same_pixels).toBe(1);
  });

  it("spaces 30 fps buffer timestamps 33.3 ms apart within 2 ms, on CLOCK_MONOTONIC", async () => {
    const c = await runProgram<Capture>("cam_capture", [
      "/dev/video0",
      "1280",
      "720",
      "YUYV",
      "30",
      "60",
    ]);
    expect(c.frames).toHaveLength(60);
    expect(Math.max(...spacingErrorsUs(c.frames, 1e6 / 30))).toBeLessThanOrEqual(2000);
    for (const f of c.frames) expect(f.flags & V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC).toBeTruthy();
    const seqs = c.frames.map((f) => f.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("paces 15 fps at 66.7 ms per frame", async () => {
    const c = await runProgram<Capture>("cam_capture", [
      "/dev/video0",
      "640",
      "480",
      "NV12",
      "15",
      "15",
    ]);
    expect([c.fps_num, c.fps_den]).toEqual([1, 15]);
    expect(Math.max(...spacingErrorsUs(c.frames, 1e6 / 15))).toBeLessThanOrEqual(2000);
  });

  for (const fourcc of ["YUYV", "NV12", "YU12"]) {
    it(`stamps every ${fourcc} frame with a capture time inside the run`, async () => {
      const c = await runProgram<Capture>("cam_capture", [
        "/dev/video0",
        "640",
        "480",
        fourcc,
        "30",
        "10",
      ]);
      expect(c.fourcc).toBe(fourcc);
      for (const f of c.frames) {
        expect(f.stamp_us).toBeGreaterThanOrEqual(c.t0_real_us);
        expect(f.stamp_us).toBeLessThanOrEqual(c.t1_real_us);
        expect(f.bytes).toBe(c.sizeimage);
      }
      const stamps = c.frames.map((f) => f.stamp_us);
      expect(new Set(stamps).size).toBe(stamps.length);
    });
  }

  it("serves frames to a blocking DQBUF and a non-blocking one that sees EAGAIN", async () => {
    const blocking = await runProgram<Capture>("cam_capture", [
      "/dev/video0",
      "640",
      "480",
      "YUYV",
      "30",
      "5",
      "block",
    ]);
    expect(blocking.frames).toHaveLength(5);
    const nonblocking = await runProgram<Capture>("cam_capture", [
      "/dev/video0",
      "640",
      "480",
      "YUYV",
      "30",
      "5",
      "nonblock",
    ]);
    expect(nonblocking.frames).toHaveLength(5);
    expect(nonblocking.eagain).toBeGreaterThan(0);
  });

  it("gives H.264 access units, the first a key frame, in the uvc-h264 profile", async () => {
    const c = await runProgram<Capture>(
      "cam_capture",
      ["/dev/video0", "1280", "720", "H264", "30", "10"],
      {
        profile: "uvc-h264",
      },
    );
    expect(c.fourcc).toBe("H264");
    expect((c.frames[0] as Frame).flags & V4L2_BUF_FLAG_KEYFRAME).toBeTruthy();
    for (const f of c.frames) expect(f.bytes).toBeGreaterThan(0);
  });

  it("leaves no fd or thread behind after 50 open/stream/close cycles of camera and encoder", async () => {
    const r = await runProgram<Record<string, number>>("cycles", ["50"]);
    expect(r.fds_after).toBe(r.fds_before);
    expect(r.threads_after).toBe(r.threads_before);
  });
});
