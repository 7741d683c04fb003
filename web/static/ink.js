// Freehand ink over the transcript: with 手写 on, a finger or stylus draws
// over a segment; each stroke becomes an ink annotation on that segment,
// its points kept relative to the segment's box (so it scales with the
// screen) with the pen's pressure where the device reports it.

export class Ink {
  constructor(list, toggle, annotate) {
    this.list = list;
    this.toggle = toggle;
    this.annotate = annotate;
    this.on = false;
    this.stroke = null;  // {li, box, points, svg, path}
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
    if (!li || !li.querySelector(".text")) return;
    e.preventDefault();
    this.list.setPointerCapture(e.pointerId);
    const box = li.getBoundingClientRect();
    const svg = overlay(li);
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("class", "ink-live");
    svg.append(path);
    this.stroke = { li, box, points: [], svg, path };
    this.move(e);
  }

  move(e) {
    const s = this.stroke;
    if (!s) return;
    const p = e.pointerType === "pen" && e.pressure > 0 ? e.pressure : 0.5;
    s.points.push([round((e.clientX - s.box.left) / s.box.width), round((e.clientY - s.box.top) / s.box.height), round(p)]);
    s.path.setAttribute("d", smooth(s.points));
  }

  up() {
    const s = this.stroke;
    this.stroke = null;
    if (!s) return;
    s.path.remove();
    if (s.points.length < 2) return;
    const text = s.li.querySelector(".text").textContent;
    this.annotate({ kind: "annotation.add", segment_id: s.li.dataset.segmentId, start: 0, end: text.length,
                    style: "ink", color: "red", body: JSON.stringify({ strokes: [s.points] }) });
  }
}

const SVG = "http://www.w3.org/2000/svg";
const round = (x) => Math.round(x * 1000) / 1000;

// The segment's drawing surface: an SVG over the whole segment, in a
// 0..1 × 0..1 box.
export function overlay(li) {
  let svg = li.querySelector("svg.ink-layer");
  if (!svg) {
    svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "ink-layer");
    svg.setAttribute("viewBox", "0 0 1 1");
    svg.setAttribute("preserveAspectRatio", "none");
    li.append(svg);
  }
  return svg;
}

// A stroke through midpoints with quadratic curves, so it reads smooth.
export function smooth(points) {
  if (!points.length) return "";
  let d = `M${points[0][0]} ${points[0][1]}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    d += ` Q${x} ${y} ${(x + nx) / 2} ${(y + ny) / 2}`;
  }
  const last = points[points.length - 1];
  return d + ` L${last[0]} ${last[1]}`;
}

// Ink annotations drawn on their segment.
export function drawInk(li, annotations) {
  const inks = annotations.filter(a => a.style === "ink" && !a.orphaned);
  if (!inks.length) return;
  const svg = overlay(li);
  for (const a of inks) {
    let strokes = [];
    try { strokes = JSON.parse(a.body).strokes || []; } catch (e) { continue; }
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", `ink ${a.color}`);
    g.dataset.annotationId = a.id;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${a.author.name}的手写批注`;
    g.append(title);
    for (const points of strokes) {
      if (!Array.isArray(points)) continue;
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("d", smooth(points.filter(p => Array.isArray(p) && p.length >= 2)));
      const pressure = points.reduce((s, p) => s + (p[2] || 0.5), 0) / points.length;
      path.setAttribute("stroke-width", String(1.5 + 3 * pressure));
      g.append(path);
    }
    svg.append(g);
  }
}
