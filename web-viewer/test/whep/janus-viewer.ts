/**
 * Runs in Chromium: a viewer of a Janus VideoRoom (Janus 1.1.2's REST API,
 * janus.plugin.videoroom), for the WHIP egress test: camgw pushes to Janus
 * through simple-whip-server, and this page subscribes to whatever publisher
 * the room has, as Janus's own demos do (create a session, attach the
 * plugin, join as subscriber, answer Janus's offer, start).
 */

interface JanusReply {
  janus: string;
  data?: { id: number };
  plugindata?: { data: Record<string, unknown> };
  jsep?: { type: RTCSdpType; sdp: string };
  candidate?: RTCIceCandidateInit & { completed?: boolean };
  sender?: number;
  error?: { reason: string };
}

let transactions = 0;

async function janusPost(url: string, body: Record<string, unknown>): Promise<JanusReply> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, transaction: `t${transactions++}` }),
  });
  const reply = (await res.json()) as JanusReply;
  if (reply.janus === "error") throw new Error(`Janus: ${reply.error?.reason ?? "error"}`);
  return reply;
}

export interface JanusViewer {
  pc: RTCPeerConnection;
  video: HTMLVideoElement;
  frames: number;
  feed: number;
  close(): void;
}

/** Joins `room` as a subscriber of its first publisher and plays it in a <video>. */
export async function viewJanusRoom(janusUrl: string, room: number): Promise<JanusViewer> {
  const session = (await janusPost(janusUrl, { janus: "create" })).data?.id;
  if (session === undefined) throw new Error("Janus gave no session");
  const sessionUrl = `${janusUrl}/${session}`;
  const handle = (
    await janusPost(sessionUrl, { janus: "attach", plugin: "janus.plugin.videoroom" })
  ).data?.id;
  if (handle === undefined) throw new Error("Janus gave no handle");
  const handleUrl = `${sessionUrl}/${handle}`;
  const list = await janusPost(handleUrl, {
    janus: "message",
    body: { request: "listparticipants", room },
  });
  const participants = (list.plugindata?.data.participants ?? []) as {
    id: number;
    publisher: boolean;
  }[];
  const feed = participants.find((p) => p.publisher)?.id;
  if (feed === undefined) throw new Error(`room ${room} has no publisher`);

  const pc = new RTCPeerConnection();
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  document.body.append(video);
  let closed = false;
  const viewer: JanusViewer = {
    pc,
    video,
    frames: 0,
    feed,
    close: () => {
      closed = true;
      pc.close();
      video.remove();
      void janusPost(sessionUrl, { janus: "destroy" }).catch(() => undefined);
    },
  };
  pc.ontrack = (event) => {
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    const onFrame = (): void => {
      viewer.frames += 1;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };

  await janusPost(handleUrl, {
    janus: "message",
    body: { request: "join", ptype: "subscriber", room, streams: [{ feed }] },
  });
  // Events come by long poll on the session; it also keeps the session alive.
  const offer = new Promise<{ type: RTCSdpType; sdp: string }>((resolve, reject) => {
    const poll = async (): Promise<void> => {
      while (!closed) {
        const res = await fetch(`${sessionUrl}?maxev=5&rid=${Date.now()}`);
        const events = (await res.json()) as JanusReply | JanusReply[];
        for (const event of Array.isArray(events) ? events : [events]) {
          if (event.jsep?.type === "offer") resolve(event.jsep);
          if (event.janus === "trickle" && event.candidate && !event.candidate.completed) {
            await pc.addIceCandidate(event.candidate).catch(() => undefined);
          }
        }
      }
    };
    poll().catch(reject);
  });
  await pc.setRemoteDescription(await offer);
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  // Wait for our candidates, so the answer carries them (no trickle to Janus needed).
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === "complete") resolve();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
  await janusPost(handleUrl, {
    janus: "message",
    body: { request: "start", room },
    jsep: { type: "answer", sdp: pc.localDescription?.sdp ?? answer.sdp },
  });
  return viewer;
}
