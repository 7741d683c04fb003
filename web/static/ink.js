// Freehand ink over the transcript: with 手写 on, a finger or stylus draws
// over a segment; each stroke becomes an ink annotation on the characters
// it covers, so it is anchored like any mark (it follows the text through
// edits, splits and merges).
//
// Each point is kept relative to the character nearest to it, in units of
// the text's font size: [character index from the annotation's start, dx,
// dy, pressure]. Another screen, where the text wraps elsewhere and the
// letters are larger or smaller, draws every point beside the same
// character, so the ink stays on the words it was drawn on. (Strokes made
// before this, relative to the segment's box, still draw that way.)

export class Ink {
  constructor(list, toggle, annotate) {
    this.list = list;
    this.toggle = toggle;
    this.annotate = annotate;
    this.on = false;
    this.stroke = null;  // {li, points: [[clientX, clientY, pressure]], svg, path}
    toggle.addEventListener("click", () => this.set(!this.on));
    list.addEventListener("pointerdown", (e) => this.down(e));
    list.addEventListener("pointermove", (e) => this.move(e));
    for (const t of ["pointerup", "pointercancel"]) list.addEventListener(t, () => this.up());
  }

  set(on) {
    this.on = on;
    this.toggle.classList.toggle("active", on);
    this.toggle.textContent = on ? "结束手写" : "手写";
    this.list.classList.toggle("inking", on);
  }

  down(e) {
    if (!this.on) return;
    const li = e.target.closest("[data-segment-id]");
    if (!li || !li.querySelector(".text") || li.classList.contains("exhibit") || li.classList.contains("deleted")) return;
    e.preventDefault();
    this.list.setPointerCapture(e.pointerId);
    const svg = overlay(li);
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("class", "ink-live");
    svg.append(path);
    this.stroke = { li, points: [], svg, path };
    this.move(e);
  }

  move(e) {
    const s = this.stroke;
    if (!s) return;
    const p = e.pointerType === "pen" && e.pressure > 0 ? e.pressure : 0.5;
    s.points.push([e.clientX, e.clientY, p]);
    const box = s.li.getBoundingClientRect();
    s.path.setAttribute("d", smooth(s.points.map(([x, y]) => [x - box.left, y - box.top])));
  }

  up() {
    const s = this.stroke;
    this.stroke = null;
    if (!s) return;
    s.path.remove();
    if (s.points.length < 2) return;
    const text = s.li.querySelector(".text");
    const chars = charBoxes(text);
    if (!chars.length) return;
    const em = parseFloat(getComputedStyle(text).fontSize) || 16;
    const near = s.points.map(([x, y, p]) => {
      const i = nearest(chars, x, y);
      const r = chars[i];
      return [i, round((x - r.left) / em), round((y - r.top) / em), round(p)];
    });
    const start = Math.min(...near.map(n => n[0]));
    const end = Math.max(...near.map(n => n[0])) + 1;
    const strokes = [near.map(([i, dx, dy, p]) => [i - start, dx, dy, p])];
    this.annotate({ kind: "annotation.add", segment_id: s.li.dataset.segmentId, start, end,
                    style: "ink", color: "red", body: JSON.stringify({ v: 2, strokes }) });
  }
}

const SVG = "http://www.w3.org/2000/svg";
const round = (x) => Math.round(x * 1000) / 1000;

// The box of every character of a segment's text, in the viewport's
// coordinates (the text is split over marks and spans; offsets count
// characters of the segment's text).
function charBoxes(text) {
  const boxes = [];
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let node;
  while ((node = walker.nextNode())) {
    for (let k = 0; k < node.textContent.length; k++) {
      range.setStart(node, k);
      range.setEnd(node, k + 1);
      const rects = range.getClientRects();
      const r = rects.length ? rects[0] : range.getBoundingClientRect();
      boxes.push({ left: r.left, top: r.top, width: r.width, height: r.height });
    }
  }
  return boxes;
}

function nearest(chars, x, y) {
  let best = 0, distance = Infinity;
  chars.forEach((r, i) => {
    const dx = x < r.left ? r.left - x : x > r.left + r.width ? x - r.left - r.width : 0;
    const dy = y < r.top ? r.top - y : y > r.top + r.height ? y - r.top - r.height : 0;
    const d = dx * dx + dy * dy;
    if (d < distance) { distance = d; best = i; }
  });
  return best;
}

// The segment's drawing surface: an SVG over the whole segment, in the
// segment's own pixels.
export function overlay(li) {
  let svg = li.querySelector("svg.ink-layer");
  if (!svg) {
    svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "ink-layer");
    li.append(svg);
  }
  return svg;
}

// A stroke through midpoints with quadratic curves, so it reads smooth.
export function smooth(points) {
  if (!points.length) return "";
  const f = (v) => Math.round(v * 1000) / 1000;
  let d = `M${f(points[0][0])} ${f(points[0][1])}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    d += ` Q${f(x)} ${f(y)} ${f((x + nx) / 2)} ${f((y + ny) / 2)}`;
  }
  const last = points[points.length - 1];
  return d + ` L${f(last[0])} ${f(last[1])}`;
}

// Ink annotations drawn on their segment (once it is laid out: character
// boxes are measured). Called again when the screen's width changes.
export function drawInk(li, annotations) {
  const inks = annotations.filter(a => a.style === "ink" && !a.orphaned);
  const old = li.querySelector("svg.ink-layer");
  if (old) old.remove();
  if (!inks.length) return;
  const svg = overlay(li);
  const text = li.querySelector(".text");
  let chars = null, em = 16, origin = null;
  for (const a of inks) {
    let body;
    try { body = JSON.parse(a.body); } catch (e) { continue; }
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", `ink ${a.color}`);
    g.dataset.annotationId = a.id;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${a.author.name}的手写批注`;
    g.append(title);
    const boxed = body.v !== 2;  // an old stroke, relative to the segment's box
    let parent = g;
    if (boxed) {
      const inner = document.createElementNS(SVG, "svg");
      inner.setAttribute("viewBox", "0 0 1 1");
      inner.setAttribute("preserveAspectRatio", "none");
      inner.setAttribute("width", "100%");
      inner.setAttribute("height", "100%");
      inner.setAttribute("overflow", "visible");
      g.append(inner);
      parent = inner;
    } else if (chars === null) {
      chars = text ? charBoxes(text) : [];
      em = text ? parseFloat(getComputedStyle(text).fontSize) || 16 : 16;
      origin = li.getBoundingClientRect();
    }
    for (const points of body.strokes || []) {
      if (!Array.isArray(points)) continue;
      let xy;
      if (boxed) {
        xy = points.filter(p => Array.isArray(p) && p.length >= 2);
      } else {
        xy = points.filter(p => Array.isArray(p) && p.length >= 3 && chars[a.start + p[0]]).map(([i, dx, dy, p]) => {
          const r = chars[a.start + i];
          return [r.left - origin.left + dx * em, r.top - origin.top + dy * em, p];
        });
      }
      if (xy.length < 2) continue;
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("d", smooth(xy));
      const pressures = boxed ? xy.map(p => p[2] || 0.5) : points.map(p => p[3] || 0.5);
      const pressure = pressures.reduce((s, p) => s + p, 0) / pressures.length;
      path.setAttribute("stroke-width", String(boxed ? 1.5 + 3 * pressure : 1.5 + 3 * pressure));
      parent.append(path);
    }
    svg.append(g);
  }
}
