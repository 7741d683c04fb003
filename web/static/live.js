// The public live stream (庭审直播): plays the hearing's HLS playlist with
// hls.js (vendored from npm), or natively where the browser plays HLS.
// No login. While the hub has not yet published a segment (the stream goes
// out a fixed delay behind the courtroom) the page waits; when the judge
// pauses the stream the playlist disappears and the page says so.
"use strict";

const hearingId = location.pathname.split("/")[2];
const base = `/live/${hearingId}/`;
const video = document.getElementById("player");
const state = document.getElementById("state");
const sound = document.getElementById("sound");
let player = null;
let playing = false;

function say(text) { state.textContent = text; }

async function playlist() {
  const res = await fetch(base + "index.m3u8", { cache: "no-store" });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

async function facts() {
  try {
    const res = await fetch(base + "stream.json", { cache: "no-store" });
    if (!res.ok) return 30;
    const info = await res.json();
    document.getElementById("title").textContent = `庭审直播：${info.title}`;
    document.getElementById("facts").textContent = `${info.court}　${info.case_number}　（延时 ${info.delay_s} 秒播出）`;
    document.title = `庭审直播 ${info.case_number}`;
    return info.delay_s;
  } catch (e) {
    return 30;
  }
}

function ended() {
  playing = false;
  if (player) { player.destroy(); player = null; }
  video.removeAttribute("src");
  video.load();
  sound.hidden = true;
  say("直播已暂停或结束。");
}

function start() {
  playing = true;
  say("直播中");
  if (window.Hls && Hls.isSupported()) {
    // No worker: the page's policy allows scripts from this site alone.
    player = new Hls({ enableWorker: false, liveSyncDurationCount: 3, manifestLoadingMaxRetry: 2,
                       levelLoadingMaxRetry: 2 });
    player.on(Hls.Events.ERROR, (event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) { player.recoverMediaError(); return; }
      check();
    });
    player.loadSource(base + "index.m3u8");
    player.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = base + "index.m3u8";
  } else {
    say("此浏览器无法播放直播，请换用其他浏览器。");
    return;
  }
  video.play().catch(() => {});
  sound.hidden = !video.muted;
}

async function check() {
  try {
    const text = await playlist();
    if (text === null) { if (playing) ended(); else say("该庭审当前没有直播。"); return; }
    if (!playing) {
      if (text.includes("#EXTINF")) start();
      else say(`直播即将开始（延时播出，请稍候）…`);
    }
  } catch (e) {
    say("连接中断，正在重试…");
  }
}

sound.addEventListener("click", () => {
  video.muted = false;
  video.play().catch(() => {});
  sound.hidden = true;
});

facts().then(() => { check(); setInterval(check, 2000); });
