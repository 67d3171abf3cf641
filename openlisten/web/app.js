// OpenListen playground: a file goes to POST /v1/listen, the microphone to WebSocket /v1/listen (or, with
// "turns", to /v2/listen: Flux, the speaker's turns as they end)
// (spec/listen-v1.md §3, §5). Plain browser JavaScript: no build step, nothing fetched from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);

/** Options sent as repeated query parameters, one per comma-separated item. */
const LIST_OPTIONS = ["redact", "search", "keywords"];
/** Boolean options: sent as `true` when ticked, left out otherwise (the server's default is false). */
const FLAG_OPTIONS = ["smart_format", "punctuate", "diarize"];

/**
 * Turns the microphone's float samples into 16-bit little-endian PCM (`encoding=linear16`) in 100 ms
 * pieces. Loaded from a Blob so the page stays one JS file; PCM needs no decoding on the server.
 */
const PCM16_WORKLET = `
class Pcm16 extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 10);
    this.piece = new Int16Array(this.size);
    this.filled = 0;
  }
  process(inputs) {
    const samples = inputs[0][0];
    if (!samples) return true;
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      this.piece[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.filled === this.size) {
        this.port.postMessage(this.piece.buffer, [this.piece.buffer]); // transferred: a new piece follows
        this.piece = new Int16Array(this.size);
        this.filled = 0;
      }
    }
    return true;
  }
}
registerProcessor("pcm16", Pcm16);
`;

// ---- Shared: options, credentials, messages ----

function queryFromForm() {
  const form = $("options");
  const params = new URLSearchParams();
  for (const name of ["model", "language"]) {
    const value = form[name].value.trim();
    if (value) params.set(name, value);
  }
  for (const name of FLAG_OPTIONS) if (form[name].checked) params.set(name, "true");
  for (const name of LIST_OPTIONS) {
    for (const item of form[name].value.split(",")) if (item.trim()) params.append(name, item.trim());
  }
  return params;
}

function apiKey() {
  return $("api-key").value.trim();
}

function authHeaders() {
  return apiKey() ? { Authorization: `Token ${apiKey()}` } : {};
}

/** A Deepgram error body (`err_code`, `err_msg`) as one line. */
async function describeError(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    const code = body.err_code || body.category || response.statusText;
    return `${response.status} ${code}: ${body.err_msg || body.message || body.detail || text}`;
  } catch {
    return `${response.status} ${response.statusText}: ${text}`;
  }
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

function setStatus(text) {
  $("status").textContent = text;
}

// ---- File: POST /v1/listen ----

let playerUrl = null;

async function transcribeFile(file) {
  showError("");
  setStatus(`Transcribing ${file.name}…`);
  const started = performance.now();
  let response;
  try {
    response = await fetch(`v1/listen?${queryFromForm()}`, {
      method: "POST",
      headers: { ...authHeaders(), "Content-Type": "application/octet-stream" },
      body: file,
    });
  } catch (error) {
    setStatus("");
    showError(`Could not reach the server: ${error.message}`);
    return;
  }
  if (!response.ok) {
    setStatus("");
    showError(await describeError(response));
    return;
  }
  const body = await response.json();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  setStatus(`${file.name}: ${body.metadata.duration.toFixed(1)} s of audio, transcribed in ${seconds} s`);
  if (playerUrl) URL.revokeObjectURL(playerUrl);
  playerUrl = URL.createObjectURL(file);
  $("player").src = playerUrl;
  renderResult(body);
}

function renderResult(body) {
  const channel = body.results.channels[0];
  const alternative = channel.alternatives[0];
  const words = alternative.words || [];
  $("live").hidden = true;
  $("result").hidden = false;
  $("transcript").replaceChildren(...paragraphsOf(alternative, words).map(renderParagraph));
  $("search-hits").replaceChildren(...(channel.search || []).map(renderSearch));
  $("words").tBodies[0].replaceChildren(...words.map(renderWordRow));
  $("json").textContent = JSON.stringify(body, null, 2);
}

/** The words of each paragraph (paragraphs count their words), or one paragraph of every word. */
function paragraphsOf(alternative, words) {
  const paragraphs = alternative.paragraphs ? alternative.paragraphs.paragraphs : [];
  if (!paragraphs.length) return [{ words, speaker: words.length ? words[0].speaker : undefined }];
  let next = 0;
  return paragraphs.map((paragraph) => {
    const own = words.slice(next, next + paragraph.num_words);
    next += paragraph.num_words;
    return { words: own, speaker: paragraph.speaker, start: paragraph.start, end: paragraph.end };
  });
}

function renderParagraph(paragraph) {
  const block = document.createElement("div");
  block.className = "paragraph";
  const meta = document.createElement("div");
  meta.className = "meta";
  const times = paragraph.words.length
    ? `${seconds(paragraph.words[0].start)} – ${seconds(paragraph.words.at(-1).end)}`
    : "no speech";
  meta.textContent = paragraph.speaker === undefined ? times : `Speaker ${paragraph.speaker} · ${times}`;
  if (paragraph.speaker !== undefined) block.dataset.speaker = String(paragraph.speaker % 6);
  const text = document.createElement("p");
  for (const word of paragraph.words) text.append(renderWord(word), " ");
  block.append(meta, text);
  return block;
}

function renderWord(word) {
  const span = document.createElement("span");
  span.className = "word";
  span.textContent = word.punctuated_word || word.word;
  span.title = `${seconds(word.start)} – ${seconds(word.end)} · confidence ${word.confidence.toFixed(2)}`;
  span.addEventListener("click", () => {
    $("player").currentTime = word.start;
    $("player").play();
  });
  return span;
}

function renderWordRow(word) {
  const row = document.createElement("tr");
  const cells = [word.punctuated_word || word.word, word.start.toFixed(2), word.end.toFixed(2)];
  cells.push(word.confidence.toFixed(2), word.speaker === undefined ? "" : String(word.speaker));
  for (const value of cells) row.insertCell().textContent = value;
  return row;
}

function renderSearch(result) {
  const line = document.createElement("p");
  line.className = "search";
  const hits = result.hits.map((hit) => `${seconds(hit.start)} (${hit.confidence.toFixed(2)})`);
  line.textContent = `search “${result.query}”: ${hits.length ? hits.join(", ") : "no hits"}`;
  return line;
}

function seconds(value) {
  return `${value.toFixed(2)} s`;
}

// ---- Live: WebSocket /v1/listen ----

const live = { socket: null, context: null, stream: null, line: null, opened: false };

function setLiveState(state, text = state) {
  $("live-state").dataset.state = state;
  $("live-state").textContent = text;
  $("live-toggle").textContent = state === "live" ? "Stop" : "Start microphone";
  $("live-toggle").disabled = state === "connecting" || state === "closing";
}

/**
 * Browser-style credentials (spec §5.1): a temporary token from POST /v1/auth/grant as
 * `bearer, <jwt>`, so the key itself never goes into the WebSocket; a key that may not grant tokens
 * is sent as `token, <key>`. No key: no subprotocol (a server run with --no-auth).
 */
async function liveProtocols() {
  if (!apiKey()) return [];
  const response = await fetch("v1/auth/grant", {
    method: "POST",
    headers: { ...authHeaders(), "Content-Type": "application/json" },
    body: JSON.stringify({ ttl_seconds: 60 }),
  });
  if (response.ok) return ["bearer", (await response.json()).access_token];
  if (response.status === 403) return ["token", apiKey()];
  throw new Error(await describeError(response));
}

async function startLive() {
  showError("");
  setStatus("");
  setLiveState("connecting", "connecting…");
  $("result").hidden = true;
  $("live").hidden = false;
  $("live").replaceChildren();
  live.line = null;
  live.opened = false;
  try {
    if (!navigator.mediaDevices) throw new Error("this page needs https or localhost to use the microphone");
    live.context = new AudioContext(); // at once, while the click still counts as a user gesture
    const protocols = await liveProtocols();
    live.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1 } });
    const worklet = new Blob([PCM16_WORKLET], { type: "text/javascript" });
    await live.context.audioWorklet.addModule(URL.createObjectURL(worklet));
    const turns = $("live-turns").checked;
    // Flux takes none of the form's transcript options: its turns come punctuated.
    const params = turns ? new URLSearchParams({ model: "flux-general-en" }) : queryFromForm();
    params.set("encoding", "linear16");
    params.set("sample_rate", String(live.context.sampleRate));
    if (!turns) params.set("interim_results", "true");
    const url = new URL(`${turns ? "v2" : "v1"}/listen?${params}`, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    openSocket(url, protocols);
  } catch (error) {
    stopAudio();
    setLiveState("error");
    showError(error.message);
  }
}

function openSocket(url, protocols) {
  const socket = (live.socket = new WebSocket(url, protocols));
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    live.opened = true;
    setLiveState("live");
    const source = live.context.createMediaStreamSource(live.stream);
    const pcm = new AudioWorkletNode(live.context, "pcm16");
    pcm.port.onmessage = (event) => socket.readyState === WebSocket.OPEN && socket.send(event.data);
    source.connect(pcm).connect(live.context.destination); // its output is silence; connected, it runs
    live.context.resume();
  };
  socket.onmessage = (event) => onLiveMessage(JSON.parse(event.data));
  socket.onclose = (event) => {
    stopAudio();
    live.socket = null;
    if (event.code === 1000) {
      setLiveState("closed");
    } else if (!live.opened) {
      setLiveState("error");
      showError(
        "The server refused the live connection (the browser does not show why). Check the API key and the " +
          "options: transcribing a file with the same options shows the server's message.",
      );
    } else {
      setLiveState("error");
      showError(`The connection closed: ${event.code} ${event.reason || "(no reason given)"}`);
    }
  };
}

function stopLive() {
  stopAudio();
  const socket = live.socket;
  if (socket && socket.readyState === WebSocket.OPEN) {
    setLiveState("closing", "closing…");
    socket.send(JSON.stringify({ type: "CloseStream" }));
  } else if (socket) {
    socket.close();
  }
}

function stopAudio() {
  if (live.stream) live.stream.getTracks().forEach((track) => track.stop());
  if (live.context) live.context.close();
  live.stream = live.context = null;
}

/** Interims show in a lighter style, each replaced by the next; finals stay; speech_final ends the line. */
function onLiveMessage(message) {
  if (message.type === "Results") {
    const text = message.channel.alternatives[0].transcript;
    const line = currentLine();
    if (message.is_final) {
      if (text) line.final.textContent = [line.final.textContent, text].filter(Boolean).join(" ");
      line.interim.textContent = "";
      if (message.speech_final) endLine();
    } else {
      line.interim.textContent = text;
    }
  } else if (message.type === "UtteranceEnd") {
    endLine();
  } else if (message.type === "Metadata") {
    setStatus(`${message.duration.toFixed(1)} s of audio streamed · request ${message.request_id}`);
  } else if (message.type === "TurnInfo") {
    onTurn(message);
  } else if (message.type === "Error") {
    showError(`${message.variant || message.code}: ${message.description}`);
  }
}

/** A turn grows in the lighter style; at EndOfTurn it is set, labelled with what ended it. */
function onTurn(message) {
  const line = currentLine();
  line.interim.textContent = message.transcript;
  if (message.event === "EagerEndOfTurn") line.element.dataset.eager = "true";
  if (message.event === "TurnResumed") delete line.element.dataset.eager;
  if (message.event === "EndOfTurn") {
    line.final.textContent = message.transcript;
    line.interim.textContent = "";
    delete line.element.dataset.eager;
    const confidence = message.end_of_turn_confidence.toFixed(2);
    line.element.dataset.turn = `turn ${message.turn_index} · ${message.trigger} · ${confidence}`;
    live.line = null;
  }
}

function currentLine() {
  if (!live.line) {
    const element = document.createElement("p");
    element.className = "line";
    const final = document.createElement("span");
    final.className = "final";
    const interim = document.createElement("span");
    interim.className = "interim";
    element.append(final, " ", interim);
    $("live").append(element);
    live.line = { element, final, interim };
  }
  return live.line;
}

function endLine() {
  if (live.line && live.line.final.textContent) live.line = null;
}

// ---- Wiring ----

async function loadModels() {
  try {
    const response = await fetch("v1/models", { headers: authHeaders() });
    if (!response.ok) return;
    const options = (await response.json()).stt.map((model) => new Option(model.name));
    $("models").replaceChildren(...options);
  } catch {
    // Only suggestions for the model field; the field works without them.
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = sessionStorage.getItem("openlisten-key") || "";
  $("api-key").addEventListener("change", () => {
    sessionStorage.setItem("openlisten-key", apiKey());
    loadModels();
  });
  $("file").addEventListener("change", () => {
    const file = $("file").files[0];
    $("file").value = ""; // picking the same file again runs it again, with the options then set
    if (file) transcribeFile(file);
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files[0]) transcribeFile(event.dataTransfer.files[0]);
  });
  $("live-toggle").addEventListener("click", () => {
    if ($("live-state").dataset.state === "live") stopLive();
    else startLive();
  });
  loadModels();
});
