/**
 * OS1 voice mode, browser side: microphone in, OS1's voice out, over the WebSocket /api/v1/voice.
 * Self-contained ES module, no dependencies.
 *
 * API
 *   import { startVoice, listVoices } from "/static/voice.js";
 *
 *   const { voices, default: chosen, speech_to_text } = await listVoices();   // GET /api/v1/voices
 *
 *   const voice = await startVoice({
 *     onEvent: (event) => { ... },   // every event (below); required
 *     mode: "hands-free",            // or "push-to-talk" (then call voice.talk(true/false))
 *     voice: "piper:en_US-joe-medium", // optional: a voice id from listVoices()
 *     bargeIn: true,                 // talking over OS1 interrupts it (echo cancellation keeps its own voice out)
 *     url: undefined,                // optional WebSocket URL (default: this page's host)
 *   });
 *   voice.talk(true) / voice.talk(false)  push-to-talk: press / release (release ends your turn)
 *   voice.interrupt()                     stop OS1 talking now
 *   voice.setMuted(true|false)            stop / resume sending the microphone
 *   voice.stop()                          hang up: microphone off, socket closed
 *   voice.state                           "connecting" | "listening" | "hearing" | "thinking" | "speaking" | "closed"
 *
 * Events given to onEvent (plain objects with a `type`):
 *   {type: "state", state}                    the state above changed
 *   {type: "level", rms}                      microphone level, ~10 per second (for a meter)
 *   {type: "ready", voice, sample_rate}       connected
 *   {type: "speech-started"} {type: "speech-ended"}
 *   {type: "heard", text, final}              your words (partial while you talk, then final)
 *   {type: "perceived" | "recalled" | "safety" | "delta" | "done", ...}  the reply, as in text chat
 *   {type: "audio", seq, text, seconds}       a chunk of OS1's voice started to arrive (text it speaks)
 *   {type: "backchannel", text}               your "mm-hm" was heard and let through
 *   {type: "interrupted", spoken, unspoken}   you talked over OS1; `spoken` is what you heard
 *   {type: "turn-done", heard, spoken, interrupted, timings}
 *   {type: "nothing-heard", reason}
 *   {type: "error", error: {type, message, hint}}
 *
 * Capture: getUserMedia with echoCancellation, noiseSuppression and autoGainControl, an AudioWorklet
 * at 16 kHz where the browser allows it (else the context's rate; the server resamples), sent as
 * 16-bit PCM every ~64 ms. Playback: Web Audio, chunks scheduled back to back; the played position
 * goes back to the server so it knows what you heard if you interrupt.
 */

const WORKLET = `
class OS1Capture extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Float32Array(1024); this.n = 0; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) {
      for (let i = 0; i < ch.length; i++) {
        this.buf[this.n++] = ch[i];
        if (this.n === this.buf.length) { this.port.postMessage(this.buf.slice(0)); this.n = 0; }
      }
    }
    return true;
  }
}
registerProcessor("os1-capture", OS1Capture);
`;

export async function listVoices() {
  const r = await fetch("/api/v1/voices");
  if (!r.ok) throw new Error(`GET /api/v1/voices: ${r.status}`);
  return r.json();
}

function defaultUrl() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/api/v1/voice`;
}

function toPcm16(float32) {
  const out = new Int16Array(float32.length);
  for (let i = 0; i < float32.length; i++) {
    const s = Math.max(-1, Math.min(1, float32[i]));
    out[i] = s < 0 ? s * 32768 : s * 32767;
  }
  return out.buffer;
}

export async function startVoice({ onEvent, mode = "hands-free", voice, bargeIn = true, url } = {}) {
  if (typeof onEvent !== "function") throw new TypeError("startVoice needs an onEvent function");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("This browser cannot record audio here (it needs https or localhost).");
  }
  const emit = (e) => { try { onEvent(e); } catch (err) { console.error(err); } };
  let state = "connecting";
  const setState = (s) => { if (s !== state) { state = s; emit({ type: "state", state: s }); } };
  emit({ type: "state", state });

  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  let micCtx;
  try {
    micCtx = new AudioContext({ sampleRate: 16000 });
    micCtx.createMediaStreamSource(stream);  // some browsers refuse a rate that differs from the device's
  } catch (_) {
    micCtx = new AudioContext();
  }
  const workletUrl = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
  await micCtx.audioWorklet.addModule(workletUrl);
  URL.revokeObjectURL(workletUrl);
  const source = micCtx.createMediaStreamSource(stream);
  const capture = new AudioWorkletNode(micCtx, "os1-capture");
  source.connect(capture);

  const playCtx = new AudioContext();
  const ws = new WebSocket(url || defaultUrl());
  ws.binaryType = "arraybuffer";

  let muted = false;
  let talking = mode !== "push-to-talk";
  let pendingAudio = null;   // the header of the next binary frame
  let sources = [];
  let replyStart = null;     // playCtx time where the current reply's audio began
  let scheduledEnd = 0;      // playCtx time where the queued audio ends
  let queuedSeconds = 0;
  let levelAt = 0;

  capture.port.onmessage = (msg) => {
    const frame = msg.data;
    const now = performance.now();
    if (now - levelAt > 100) {
      levelAt = now;
      let sum = 0;
      for (let i = 0; i < frame.length; i++) sum += frame[i] * frame[i];
      emit({ type: "level", rms: Math.sqrt(sum / frame.length) });
    }
    if (!muted && talking && ws.readyState === WebSocket.OPEN) ws.send(toPcm16(frame));
  };

  function playedSeconds() {
    if (replyStart === null) return 0;
    return Math.max(0, Math.min(queuedSeconds, playCtx.currentTime - replyStart));
  }

  function stopAudio() {
    for (const s of sources) { try { s.stop(); } catch (_) { /* already ended */ } }
    sources = [];
    replyStart = null;
    scheduledEnd = 0;
    queuedSeconds = 0;
    if (state === "speaking") setState("listening");
  }

  function playChunk(header, data) {
    const pcm = new Int16Array(data);
    const buf = playCtx.createBuffer(1, pcm.length, header.sample_rate);
    const ch = buf.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
    const node = playCtx.createBufferSource();
    node.buffer = buf;
    node.connect(playCtx.destination);
    const startAt = Math.max(playCtx.currentTime + 0.02, scheduledEnd);
    if (header.seq === 0 || replyStart === null) { replyStart = startAt; queuedSeconds = 0; }
    node.start(startAt);
    scheduledEnd = startAt + buf.duration;
    queuedSeconds += buf.duration;
    sources.push(node);
    node.onended = () => { sources = sources.filter((s) => s !== node); };
    setState("speaking");
  }

  const reporter = setInterval(() => {
    if (ws.readyState !== WebSocket.OPEN || replyStart === null) return;
    const idle = playCtx.currentTime >= scheduledEnd;
    ws.send(JSON.stringify({ type: "played", seconds: playedSeconds(), idle }));
    if (idle && state === "speaking") setState("listening");
  }, 100);

  ws.onopen = () => {
    ws.send(JSON.stringify({ type: "start", sample_rate: micCtx.sampleRate, voice, mode, barge_in: bargeIn }));
  };
  ws.onmessage = (msg) => {
    if (typeof msg.data !== "string") {
      if (pendingAudio) { playChunk(pendingAudio, msg.data); pendingAudio = null; }
      return;
    }
    const event = JSON.parse(msg.data);
    if (event.type === "audio") pendingAudio = event;
    else if (event.type === "stop-audio") { stopAudio(); return; }
    else if (event.type === "ready") { setState("listening"); if (playCtx.state === "suspended") playCtx.resume(); }
    else if (event.type === "speech-started") setState("hearing");
    else if (event.type === "heard" && event.final) setState("thinking");
    else if (event.type === "nothing-heard" || event.type === "backchannel") {
      if (state !== "speaking") setState("listening");
    }
    emit(event);
  };
  ws.onclose = () => { cleanup(); };
  ws.onerror = () => emit({ type: "error", error: { type: "ConnectionError", message: "The voice connection failed.", hint: "Is OS1 still running?" } });

  function cleanup() {
    clearInterval(reporter);
    stopAudio();
    capture.port.onmessage = null;
    stream.getTracks().forEach((t) => t.stop());
    micCtx.close().catch(() => {});
    playCtx.close().catch(() => {});
    setState("closed");
  }

  return {
    get state() { return state; },
    talk(down) {
      if (mode !== "push-to-talk") return;
      talking = !!down;
      if (down && state === "speaking" && bargeIn) this.interrupt();
      if (!down && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "end-turn" }));
    },
    interrupt() {
      stopAudio();
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "interrupt" }));
    },
    setMuted(value) { muted = !!value; },
    stop() {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "bye" }));
      ws.close();
      cleanup();
    },
  };
}
