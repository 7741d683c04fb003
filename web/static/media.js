// The page's microphone and camera in the hearing, and everyone else's
// media: answers the hub's offers (the hub always offers), publishing on
// the sections it names, and shows one tile per other participant.
// Seat labels on the pictures, as on a courtroom's seat plates.
const SEAT = { judge: "审判员", clerk: "书记员", plaintiff: "原告", defendant: "被告", agent: "代理人",
  prosecutor: "公诉人", witness: "证人", observer: "旁听", mediator: "调解员" };

export class Media {
  constructor(send, grid, names, say) {
    this.send = send;      // (message) => void, over the hearing websocket
    this.grid = grid;      // element holding the tiles
    this.names = names;    // participant_id -> {name, role}
    this.say = say;        // (text) => void, status line
    this.pc = null;
    this.local = null;     // MediaStream of this page's microphone and camera
    this.joined = false;
    this.tiles = new Map();  // tile key (see tileKey) -> {figure, video, stream}
    this.mids = {};          // mid -> {participant_id, kind}
    this.watch = false;      // only watching (?watch=1)
    this.courtDevices = {};  // device_id -> {name, …}: the courtroom equipment, from presence
  }

  // A screen that only shows the others' pictures (a terminal's kiosk, beside
  // the appliance that carries its microphone and loudspeaker): it asks for
  // no microphone or camera and takes no sound.
  joinMessage() {
    if (this.watch) return { type: "rtc.join", publish: [], receive: ["video"] };
    return { type: "rtc.join", audio: this.local.getAudioTracks().length > 0,
             video: this.local.getVideoTracks().length > 0 };
  }

  async join(camera = true) {
    if (this.watch) this.local = this.local || new MediaStream();
    if (!this.local) {
      try {
        this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: camera });
      } catch (err) {
        if (!camera) throw err;
        this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
        this.say("未找到摄像头，仅以音频加入");
      }
      const self = document.getElementById("self-video");
      if (self) { self.srcObject = this.local; self.hidden = !this.local.getVideoTracks().length; }
    }
    this.joined = true;
    this.send(this.joinMessage());
  }

  // The microphones and cameras this device has, for the pickers.
  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return { audio: all.filter(d => d.kind === "audioinput"), video: all.filter(d => d.kind === "videoinput") };
  }

  current(kind) {
    const track = kind === "audio" ? this.local.getAudioTracks()[0] : this.local.getVideoTracks()[0];
    return track ? track.getSettings().deviceId : "";
  }

  // Switch to another microphone or camera without renegotiating: the new
  // track takes the old one's place in the same sender.
  async use(kind, deviceId) {
    const fresh = await navigator.mediaDevices.getUserMedia(
      kind === "audio" ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } });
    const track = kind === "audio" ? fresh.getAudioTracks()[0] : fresh.getVideoTracks()[0];
    const old = kind === "audio" ? this.local.getAudioTracks()[0] : this.local.getVideoTracks()[0];
    if (this.pc) {
      const sender = this.pc.getSenders().find(x => x.track === old);
      if (sender) await sender.replaceTrack(track);
    }
    if (old) { this.local.removeTrack(old); old.stop(); }
    this.local.addTrack(track);
    const self = document.getElementById("self-video");
    if (self) self.srcObject = this.local;
  }

  // The camera off sends black frames; the connection stays as it is.
  cameraOn(on) {
    for (const track of this.local.getVideoTracks()) track.enabled = on;
  }

  // After the websocket reconnects the hub has closed the old connection.
  rejoin() {
    if (!this.joined) return;
    this.reset();
    this.send(this.joinMessage());
  }

  reset() {
    if (this.pc) this.pc.close();
    this.pc = null;
    for (const pid of [...this.tiles.keys()]) this.removeTile(pid);
  }

  leave() {
    if (this.joined) this.send({ type: "rtc.leave" });
    this.joined = false;
    this.reset();
  }

  async handle(msg) {
    // An offer still on its way when this page left (闭庭, 退出音视频) is not taken up.
    if (msg.type === "rtc.offer") { if (this.joined) await this.offer(msg); }
    else if (msg.type === "rtc.closed") { this.joined = false; this.reset(); this.say(msg.message || "音视频已断开"); }
    else if (msg.type === "rtc.error") { this.joined = false; this.reset(); this.say("音视频连接失败，请重新加入音视频"); }
  }

  async offer(msg) {
    if (!this.pc) {
      this.pc = new RTCPeerConnection({ iceServers: msg.ice_servers || [] });
      this.pc.ontrack = (e) => this.track(e);
      this.pc.onconnectionstatechange = () => {
        const s = this.pc && this.pc.connectionState;
        if (s === "connected") this.say("音视频已连接");
        else if (s === "failed") this.say("音视频连接失败");
      };
    }
    const pc = this.pc;
    this.mids = msg.tracks || {};
    await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    for (const [kind, mid] of Object.entries(msg.publish || {})) {
      const t = pc.getTransceivers().find(x => x.mid === mid);
      const track = kind === "audio" ? this.local.getAudioTracks()[0] : this.local.getVideoTracks()[0];
      if (t && track && t.sender.track !== track) {
        t.direction = "sendonly";
        await t.sender.replaceTrack(track);
      }
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    this.send({ type: "rtc.answer", sdp: pc.localDescription.sdp });
    const present = new Set(Object.values(this.mids).map(t => this.tileKey(t)));
    for (const key of [...this.tiles.keys()]) if (!present.has(key)) this.removeTile(key);
  }

  // A participant's media share one tile; the courtroom's own cameras (a
  // device's, not a participant's) each have their own.
  tileKey(info) {
    return this.names[info.participant_id] ? info.participant_id : `${info.participant_id}:${info.name}`;
  }

  track(e) {
    const info = this.mids[e.transceiver.mid];
    if (!info) return;
    const tile = this.tile(this.tileKey(info), info);
    for (const old of tile.stream.getTracks().filter(t => t.kind === e.track.kind)) tile.stream.removeTrack(old);
    tile.stream.addTrack(e.track);
    tile.video.play().catch((err) => {
      // Browsers without a user gesture may refuse to play sound.
      if (err.name === "NotAllowedError") this.say("请点击页面以播放声音");
    });
  }

  tile(key, info = { participant_id: key, name: "" }) {
    let tile = this.tiles.get(key);
    if (tile) return tile;
    const pid = info.participant_id;
    const figure = document.createElement("figure");
    figure.dataset.participantId = pid;
    if (key !== pid) figure.dataset.source = info.name;
    const video = document.createElement("video");
    video.autoplay = true; video.playsInline = true;
    // Each picture carries its seat label (人民法院在线诉讼规则 Art. 24).
    const caption = document.createElement("figcaption");
    const p = this.names[pid];
    const seat = document.createElement("span");
    seat.className = "seat";
    const device = this.courtDevices[pid];
    seat.textContent = p ? (SEAT[p.role] || p.role) : info.name === "document" ? "高拍仪" : "法庭";
    caption.append(seat, p ? p.name : device ? device.name : "");
    figure.append(video, caption);
    this.grid.append(figure);
    tile = { figure, video, stream: new MediaStream() };
    video.srcObject = tile.stream;
    this.tiles.set(key, tile);
    return tile;
  }

  removeTile(pid) {
    const tile = this.tiles.get(pid);
    if (!tile) return;
    tile.figure.remove();
    this.tiles.delete(pid);
  }
}

// Send the answer with its candidates in it (waiting at most 3 s), so one
// message carries everything the hub needs.
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); } };
    const timer = setTimeout(resolve, 3000);
    pc.addEventListener("icegatheringstatechange", done);
  });
}
