// Remote help viewer (issue 17): draws the kiosk's screen from the fleet's
// WebSocket on a canvas and sends pointer events. No inline script, no
// eval, nothing stored: frames live in the canvas only, and leave with the
// page. The wire format is fleet/assist/wire (frame.go).
//
// Markup (fleet/assist ViewerHTML): #assist-viewer[data-ws] holding
// #assist-status, #assist-canvas, #assist-note and #assist-stop.

const SUBPROTOCOL = "accesskiosk.assist.v1";
const MAGIC = [0x41, 0x4b, 0x46, 0x31]; // "AKF1"
const MAX_NOTE = 60;

const STATUS = {
  waiting_device: "Waiting for the kiosk to answer…",
  waiting_consent: "Waiting for the resident to allow sharing…",
  sharing: "Sharing: click on the screen to point.",
};
const ENDED = {
  stop: "The resident stopped sharing.",
  session_end: "The resident's session ended.",
  time_limit: "Sharing reached its 30-minute limit.",
  staff_closed: "You stopped helping.",
  agent_gone: "The kiosk went offline.",
  fleet_gone: "The connection to the kiosk was lost.",
  kiosk_gone: "The kiosk went offline.",
  refused: "The resident chose not to share.",
  no_answer: "Nobody answered on the kiosk.",
  expired: "The request expired.",
  protocol_error: "The connection broke down.",
  shutdown: "The fleet server is restarting.",
};

// parseFrame reads a frame (big-endian) into {key, width, height, seq,
// regions: [{x, y, w, h, bytes}]} (bytes: a JPEG or a PNG), or throws.
export function parseFrame(buf) {
  const v = new DataView(buf);
  if (buf.byteLength < 16) throw new Error("short frame");
  for (let i = 0; i < 4; i++) if (v.getUint8(i) !== MAGIC[i]) throw new Error("not a frame");
  const f = {
    key: (v.getUint8(4) & 1) === 1,
    width: v.getUint16(6),
    height: v.getUint16(8),
    seq: v.getUint32(10),
    regions: [],
  };
  const n = v.getUint16(14);
  let p = 16;
  for (let i = 0; i < n; i++) {
    if (p + 12 > buf.byteLength) throw new Error("region header cut short");
    const r = { x: v.getUint16(p), y: v.getUint16(p + 2), w: v.getUint16(p + 4), h: v.getUint16(p + 6) };
    const len = v.getUint32(p + 8);
    p += 12;
    if (p + len > buf.byteLength) throw new Error("region cut short");
    if (r.x + r.w > f.width || r.y + r.h > f.height) throw new Error("region outside the screen");
    r.bytes = new Uint8Array(buf, p, len);
    p += len;
    f.regions.push(r);
  }
  return f;
}

function start(root) {
  const canvas = root.querySelector("#assist-canvas");
  const status = root.querySelector("#assist-status");
  const note = root.querySelector("#assist-note");
  const stop = root.querySelector("#assist-stop");
  const ctx = canvas.getContext("2d", { alpha: false });
  const url = new URL(root.dataset.ws, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url, [SUBPROTOCOL]);
  ws.binaryType = "arraybuffer";

  let lastSeq = 0;
  let haveKey = false;
  let ended = false;
  let chain = Promise.resolve(); // frames are drawn in order, one at a time
  const say = (text) => { status.textContent = text; };
  const send = (m) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); };

  async function draw(f) {
    // Decode every region first, then paint them together, so a frame
    // never shows half drawn.
    const bitmaps = await Promise.all(f.regions.map((r) =>
      createImageBitmap(new Blob([r.bytes], { type: r.bytes[0] === 0x89 ? "image/png" : "image/jpeg" }))));
    if (ended) return;
    if (f.key && (canvas.width !== f.width || canvas.height !== f.height)) {
      canvas.width = f.width;
      canvas.height = f.height;
    }
    f.regions.forEach((r, i) => {
      ctx.drawImage(bitmaps[i], r.x, r.y, r.w, r.h);
      bitmaps[i].close();
    });
    lastSeq = f.seq;
    canvas.dataset.seq = String(f.seq); // for tests and screen readers' benefit: frames drawn
    send({ type: "ack", seq: f.seq });
  }

  ws.addEventListener("message", (ev) => {
    if (typeof ev.data === "string") {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (m.type === "state" && STATUS[m.state]) say(STATUS[m.state]);
      if (m.type === "end") {
        ended = true;
        say(ENDED[m.reason] || "Remote help has ended.");
        root.dataset.ended = m.reason || "ended";
        ctx.fillStyle = "#000";
        ctx.fillRect(0, 0, canvas.width, canvas.height); // nothing of the screen stays on the page
      }
      return;
    }
    let f;
    try { f = parseFrame(ev.data); } catch { return; }
    if (!f.key && (!haveKey || f.seq !== lastSeq + 1)) {
      send({ type: "keyframe" }); // a gap: start again from a key frame
      return;
    }
    if (f.key) haveKey = true;
    chain = chain.then(() => draw(f)).catch(() => send({ type: "keyframe" }));
  });

  ws.addEventListener("close", () => {
    if (!ended) {
      ended = true;
      say("The connection to the kiosk was lost.");
      root.dataset.ended = "closed";
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
    }
  });

  canvas.addEventListener("click", (ev) => {
    if (ended || !haveKey) return;
    const rect = canvas.getBoundingClientRect();
    const x = Math.floor((ev.clientX - rect.left) * canvas.width / rect.width);
    const y = Math.floor((ev.clientY - rect.top) * canvas.height / rect.height);
    if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) return;
    const text = (note.value || "").trim().slice(0, MAX_NOTE);
    send(text ? { type: "point", x, y, text } : { type: "point", x, y });
  });

  stop.addEventListener("click", () => {
    send({ type: "end", reason: "staff_closed" });
    ws.close(1000);
  });
}

const root = document.getElementById("assist-viewer");
if (root) start(root);
