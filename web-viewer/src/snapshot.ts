/** Saves the frame a <video> shows as a PNG download, at the video's own size. */
export function snapshotFileName(deviceId: string, when: Date): string {
  // 2026-11-21T15-04-05-123Z: colons are not allowed in Windows file names.
  return `${deviceId}-${when.toISOString().replace(/[:.]/g, "-")}.png`;
}

export function saveSnapshot(video: HTMLVideoElement, deviceId: string): Promise<boolean> {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (width === 0 || height === 0) return Promise.resolve(false);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return Promise.resolve(false);
  ctx.drawImage(video, 0, 0, width, height);
  return new Promise((resolve) => {
    canvas.toBlob((blob) => {
      if (!blob) {
        resolve(false);
        return;
      }
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = snapshotFileName(deviceId, new Date());
      document.body.append(link);
      link.click();
      link.remove();
      // Give the download a moment to start before the URL goes away.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      resolve(true);
    }, "image/png");
  });
}
