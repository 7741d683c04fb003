// Signing the locked transcript on the screen: a signature pad drawn with a
// finger, pen or mouse (strokes smoothed through midpoints, wider with pen
// pressure where the device reports it), sent as a PNG.
export class SignaturePad {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.strokes = 0;
    this.points = null;
    canvas.style.touchAction = "none";  // the finger draws, it does not scroll
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const t of ["pointerup", "pointercancel", "pointerleave"]) canvas.addEventListener(t, () => this.up());
    this.clear();
  }

  clear() {
    const { ctx, canvas } = this;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    this.strokes = 0;
  }

  get empty() { return this.strokes === 0; }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    const pressure = e.pointerType === "pen" && e.pressure > 0 ? e.pressure : 0.5;
    return { x: (e.clientX - r.left) * this.canvas.width / r.width,
             y: (e.clientY - r.top) * this.canvas.height / r.height, w: 1.5 + pressure * 3 };
  }

  down(e) {
    this.canvas.setPointerCapture(e.pointerId);
    this.points = [this.point(e)];
    this.strokes++;
  }

  move(e) {
    if (!this.points) return;
    const p = this.point(e);
    const pts = this.points;
    pts.push(p);
    if (pts.length < 3) return;
    // A quadratic curve from midpoint to midpoint through the previous point.
    const [a, b, c] = pts.slice(-3);
    const ctx = this.ctx;
    ctx.strokeStyle = "#111";
    ctx.lineCap = "round";
    ctx.lineWidth = b.w;
    ctx.beginPath();
    ctx.moveTo((a.x + b.x) / 2, (a.y + b.y) / 2);
    ctx.quadraticCurveTo(b.x, b.y, (b.x + c.x) / 2, (b.y + c.y) / 2);
    ctx.stroke();
  }

  up() { this.points = null; }

  png() { return this.canvas.toDataURL("image/png"); }
}
