// nwbview.js: the browser front-end of nwbview, one plain ES module (no build step).
//
// Two hosts use it:
//   - the one-file HTML player (`nwbview html`, nwbview.export_html): the page inlines this
//     module and calls mountPage() on the scene it holds; frames come from an embedded H.264
//     clip played by a <video>, followed with requestVideoFrameCallback and the clip's
//     frame-time table (never currentTime * fps);
//   - the notebook widget (nwbview.widget, anywidget): the default export's render(); frames
//     come from the kernel as JPEGs on request, with a small prefetch while playing.
//
// The scene (nwbview/render/browser/scene.py) says what to draw: per timeline frame, the
// overlays in panel pixels (pose, position trail, head direction, events, time) and the
// column's traces (samples, stable y-limits, readouts). Everything is drawn here on canvases.

const SPEEDS = [0.25, 0.5, 1, 2, 4];
const TYPES = { f8: Float64Array, f4: Float32Array, i4: Int32Array, u1: Uint8Array };
const TRAIL_LEVELS = 12; // the export's fading trail has 12 levels of opacity
const PREFETCH = 8; // frames asked ahead of the one shown while playing (widget)
const MAX_PENDING = 6; // frame requests in flight at once (widget)
const FRAME_TIMEOUT_MS = 15000; // a frame that has not arrived by then is reported (the widget's scene may say otherwise)
const CACHE_FRAMES = 240; // decoded frames kept (widget)

// -- data --------------------------------------------------------------------------------------

export function bytesFromBase64(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The scene's metadata with its buffer references ({"$b": i, dtype, shape}) made typed arrays.
export function unpack(node, buffers) {
  if (Array.isArray(node)) return node.map((v) => unpack(v, buffers));
  if (node !== null && typeof node === "object") {
    if ("$b" in node) {
      const arr = new TYPES[node.dtype](buffers[node.$b]);
      arr.shape = node.shape;
      return arr;
    }
    const out = {};
    for (const key of Object.keys(node)) out[key] = unpack(node[key], buffers);
    return out;
  }
  return node;
}

// First index i in [lo, hi) with arr[i] >= x (numpy's searchsorted, side "left").
export function lowerBound(arr, x, lo = 0, hi = arr.length) {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Index of the value of a sorted array nearest to x (ties to the earlier one).
export function nearest(arr, x) {
  const n = arr.length;
  if (n === 0) return -1;
  const j = lowerBound(arr, x);
  if (j <= 0) return 0;
  if (j >= n) return n - 1;
  return x - arr[j - 1] <= arr[j] - x ? j - 1 : j;
}

const finite = (v) => v === v && v !== Infinity && v !== -Infinity;
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const rgba = (c, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${a})`;

// Python's "{:.Pe}": a two-digit exponent with its sign.
function pythonExp(v, p) {
  const [m, e] = v.toExponential(p).split("e");
  const n = Math.abs(parseInt(e, 10));
  return `${m}e${e[0] === "-" ? "-" : "+"}${n < 10 ? "0" : ""}${n}`;
}

// A readout as the export's column writes it (nwbview.render.column's value format).
export function formatValue(v, fmt) {
  const width = fmt.width || 0;
  if (!finite(v)) return "--".padStart(formatValue(0, fmt).length);
  let s;
  if (fmt.kind === "f") s = v.toFixed(fmt.precision);
  else if (fmt.kind === "e") s = pythonExp(v, fmt.precision);
  else {
    const p = Math.max(1, fmt.precision);
    const exp = v === 0 ? 0 : Math.floor(Math.log10(Math.abs(v)));
    s = exp < -4 || exp >= p ? pythonExp(v, p - 1) : v.toFixed(Math.max(0, p - 1 - exp));
    if (s.includes(".") && !s.includes("e")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  }
  return s.padStart(width);
}

function formatParts(parts, t, k) {
  return parts.map((p) => (p[0] === "text" ? p[1] : p[0] === "t" ? (p[1] === null ? String(t) : t.toFixed(p[1])) : String(k))).join("");
}

// Size a canvas to w x h CSS pixels at the screen's resolution; its context draws in CSS pixels.
function sizeCanvas(canvas, w, h) {
  const dpr = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function loadImage(bytes, type = "image/png") {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("nwbview: an image of the scene could not be decoded"));
    img.src = URL.createObjectURL(new Blob([bytes], { type }));
  });
}

// -- overlays ------------------------------------------------------------------------------------

function textAt(ctx, text, x, y, color, fontPx, align, baseline) {
  ctx.font = `${Math.round(fontPx)}px ui-monospace, "DejaVu Sans Mono", monospace`;
  ctx.textAlign = align;
  ctx.textBaseline = baseline;
  ctx.lineWidth = 3;
  ctx.lineJoin = "round";
  ctx.strokeStyle = "rgba(0,0,0,0.75)";
  ctx.strokeText(text, x, y);
  ctx.fillStyle = rgba(color);
  ctx.fillText(text, x, y);
}

function corner(name, w, h, margin = 8) {
  const [v, hz] = name.split("-");
  return { x: hz === "left" ? margin : w - margin, y: v === "top" ? margin : h - margin, left: hz === "left", top: v === "top" };
}

const DRAW = {
  position(ctx, o, k, scene) {
    const i = o.now[k];
    if (i < 0) return;
    const xy = o.xy;
    if (o.lo && o.trail_s > 0) {
      const now = scene.times[k];
      ctx.lineWidth = o.thickness;
      ctx.lineCap = "round";
      ctx.strokeStyle = rgba(o.color);
      for (let j = o.lo[k]; j < i; j++) {
        const x0 = xy[2 * j], y0 = xy[2 * j + 1], x1 = xy[2 * j + 2], y1 = xy[2 * j + 3];
        if (!(finite(x0) && finite(y0) && finite(x1) && finite(y1))) continue;
        const level = Math.ceil(clamp(1 - (now - o.t[j + 1]) / o.trail_s, 0, 1) * TRAIL_LEVELS);
        if (level <= 0) continue;
        ctx.globalAlpha = level / TRAIL_LEVELS;
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    }
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (finite(x) && finite(y)) {
      ctx.beginPath();
      ctx.arc(x, y, o.radius, 0, 2 * Math.PI);
      ctx.fillStyle = rgba(o.color);
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#000";
      ctx.stroke();
    }
  },

  pose(ctx, o, k) {
    const i = o.now[k];
    if (i < 0) return;
    const [, nInd, nKp] = o.xy.shape;
    const xy = o.xy;
    ctx.lineCap = "round";
    for (let a = 0; a < nInd; a++) {
      const base = (i * nInd + a) * nKp * 2;
      ctx.lineWidth = o.thickness;
      ctx.strokeStyle = rgba(o.edge_color);
      ctx.beginPath();
      for (const [p, q] of o.edges) {
        const px = xy[base + 2 * p], py = xy[base + 2 * p + 1], qx = xy[base + 2 * q], qy = xy[base + 2 * q + 1];
        if (finite(px) && finite(py) && finite(qx) && finite(qy)) {
          ctx.moveTo(px, py);
          ctx.lineTo(qx, qy);
        }
      }
      ctx.stroke();
      for (let j = 0; j < nKp; j++) {
        const x = xy[base + 2 * j], y = xy[base + 2 * j + 1];
        if (!(finite(x) && finite(y))) continue;
        ctx.beginPath();
        ctx.arc(x, y, o.radius, 0, 2 * Math.PI);
        ctx.fillStyle = rgba(o.colors[j]);
        ctx.fill();
      }
    }
  },

  head_direction(ctx, o, k) {
    const x0 = o.p0[2 * k], y0 = o.p0[2 * k + 1], x1 = o.p1[2 * k], y1 = o.p1[2 * k + 1];
    if (!(finite(x0) && finite(y0) && finite(x1) && finite(y1))) return;
    const len = 0.3 * Math.hypot(x1 - x0, y1 - y0);
    const ang = Math.atan2(y0 - y1, x0 - x1); // from the tip back along the shaft
    ctx.lineWidth = o.thickness;
    ctx.lineCap = "round";
    ctx.strokeStyle = rgba(o.color);
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    for (const side of [-1, 1]) {
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 + len * Math.cos(ang + side * Math.PI / 4), y1 + len * Math.sin(ang + side * Math.PI / 4));
    }
    ctx.stroke();
  },

  events(ctx, o, k, scene, panel) {
    if (!o.active[k]) return;
    const j = o.label[k];
    const text = j >= 0 ? o.labels[j] : o.default;
    const r = Math.floor(o.font_px / 2);
    const c = corner(o.corner, panel.rect[2], panel.rect[3]);
    const cy = c.top ? c.y + r : c.y - r;
    const cx = c.left ? c.x + r : c.x - r;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    ctx.fillStyle = rgba(o.color);
    ctx.fill();
    textAt(ctx, text, c.left ? c.x + 2 * r + 6 : c.x - 2 * r - 6, cy, [255, 255, 255], o.font_px * 0.9, c.left ? "left" : "right", "middle");
  },

  time(ctx, o, k, scene, panel) {
    const text = o.texts ? o.texts[k] : formatParts(o.parts, scene.times[k], k);
    const c = corner(o.corner, panel.rect[2], panel.rect[3]);
    textAt(ctx, text, c.x, c.y, o.color, o.font_px * 0.9, c.left ? "left" : "right", c.top ? "top" : "bottom");
  },

  field(ctx, o) {
    if (o.image) ctx.drawImage(o.image, o.box[2], o.box[0]);
  },
};

export function drawOverlays(ctx, scene, k) {
  for (const panel of scene.panels) {
    const [x, y, w, h] = panel.rect;
    ctx.save();
    ctx.translate(x, y);
    ctx.beginPath();
    ctx.rect(0, 0, w, h);
    ctx.clip();
    for (const o of panel.overlays) {
      const draw = DRAW[o.kind];
      if (draw) draw(ctx, o, k, scene, panel);
    }
    ctx.restore();
  }
}

// -- the time-series column ----------------------------------------------------------------------

function niceStep(span, n) {
  const raw = span / Math.max(1, n);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function ticks(lo, hi, n) {
  if (!(hi > lo)) return [];
  const step = niceStep(hi - lo, n);
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function tickText(v, step) {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(digits + (step % 1 && String(step).length > 3 ? 1 : 0), 6));
}

export class ColumnView {
  // windowed: the rows arrive without samples; `onNeed(t0, t1)` is called when the cursor's
  // windows leave the samples held, and `hold` puts the samples that came back.
  constructor(canvas, rows, times, windowed = false, span = 20) {
    this.canvas = canvas;
    this.rows = rows;
    this.times = times;
    this.windowed = windowed;
    this.span = span;
    this.held = windowed ? null : [-Infinity, Infinity];
    this.onNeed = null;
    this.halfWidest = Math.max(0, ...rows.map((row) => row.window_s / 2));
    this.layout(canvas.clientWidth || 360, canvas.clientHeight || 240);
  }

  // Samples of [t0, t1] arrived: rows[r][j] = {t, value} of trace j of row r.
  hold(t0, t1, rows) {
    rows.forEach((row, r) => row.forEach((tr, j) => Object.assign(this.rows[r].traces[j], { t: tr.t, value: tr.value })));
    this.held = [t0, t1];
  }

  // Ask for the samples of the windows around `now` and `span` seconds more each side, when the
  // windows and a quarter of that margin reach past the samples held.
  need(now) {
    if (!this.windowed || !this.onNeed) return;
    const n = this.times.length;
    const half = this.halfWidest;
    const lo = Math.max(now - half - this.span / 4, this.times[0] - half);
    const hi = Math.min(now + half + this.span / 4, this.times[n - 1] + half);
    if (this.held && this.held[0] <= lo && hi <= this.held[1]) return;
    this.onNeed(now - half - this.span, now + half + this.span);
  }

  layout(w, h) {
    this.w = w;
    this.h = h;
    this.ctx = sizeCanvas(this.canvas, w, h);
    const n = this.rows.length;
    const fs = clamp(h / Math.max(1, n) / 22, 9, 12);
    this.fs = fs;
    const left = Math.round(fs * 6.2), right = Math.round(fs * 1.2), top = Math.round(fs * 1.2), bottom = Math.round(fs * 3.6);
    const gap = Math.round(fs * 2.4);
    const rowH = Math.max(10, Math.floor((h - top - bottom - gap * (n - 1)) / Math.max(1, n)));
    this.rects = this.rows.map((_, r) => [left, top + r * (rowH + gap), Math.max(11, w - left - right), rowH]);
  }

  // The session time under a point of the column (CSS pixels), or null outside the axes.
  timeAt(x, y, k) {
    for (let r = 0; r < this.rows.length; r++) {
      const [rx, ry, rw, rh] = this.rects[r];
      if (x >= rx && x <= rx + rw && y >= ry - 4 && y <= ry + rh + 4) {
        return this.times[k] + ((x - rx) / rw - 0.5) * this.rows[r].window_s;
      }
    }
    return null;
  }

  draw(k) {
    const ctx = this.ctx;
    const fs = this.fs;
    const now = this.times[k];
    this.need(now);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, this.w, this.h);
    ctx.font = `${fs}px system-ui, sans-serif`;
    this.rows.forEach((row, r) => {
      const [x0, y0, w, h] = this.rects[r];
      const [lo, hi] = row.limits;
      const half = row.window_s / 2;
      const yOf = (v) => y0 + (hi - v) * (h / (hi - lo));
      const xOf = (t) => x0 + (t - now + half) * (w / row.window_s);
      // grid, ticks, labels
      ctx.strokeStyle = "#e6e6e6";
      ctx.lineWidth = 1;
      ctx.fillStyle = "#333";
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      const yt = ticks(lo, hi, 4);
      const ystep = yt.length > 1 ? yt[1] - yt[0] : hi - lo;
      for (const v of yt) {
        const y = Math.round(yOf(v)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x0, y);
        ctx.lineTo(x0 + w, y);
        ctx.stroke();
        ctx.fillText(tickText(v, ystep), x0 - 4, y);
      }
      const xt = ticks(-half, half, 4);
      const xstep = xt.length > 1 ? xt[1] - xt[0] : half;
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (const v of xt) {
        const x = Math.round(x0 + (v + half) * (w / row.window_s)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, y0);
        ctx.lineTo(x, y0 + h);
        ctx.stroke();
        ctx.fillText(tickText(v, xstep), x, y0 + h + 3);
      }
      ctx.strokeStyle = "#444";
      ctx.beginPath();
      ctx.moveTo(x0 + 0.5, y0);
      ctx.lineTo(x0 + 0.5, y0 + h + 0.5);
      ctx.lineTo(x0 + w, y0 + h + 0.5);
      ctx.stroke();
      ctx.save();
      ctx.translate(fs * 1.1, y0 + h / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(row.label, 0, 0);
      ctx.restore();
      if (r === this.rows.length - 1) {
        ctx.textAlign = "center";
        ctx.textBaseline = "top";
        ctx.fillText("time from now (s)", x0 + w / 2, y0 + h + fs * 1.7);
      }
      // cursor, traces (every sample of the window; NaN splits the line), readouts
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, y0, w, h);
      ctx.clip();
      ctx.strokeStyle = "#282828";
      ctx.beginPath();
      ctx.moveTo(x0 + w / 2, y0);
      ctx.lineTo(x0 + w / 2, y0 + h);
      ctx.stroke();
      for (const tr of row.traces) {
        const a = lowerBound(tr.t, now - half);
        const b = lowerBound(tr.t, now + half, a);
        ctx.strokeStyle = rgba(tr.color);
        ctx.fillStyle = rgba(tr.color);
        ctx.lineWidth = tr.thickness;
        ctx.lineJoin = "round";
        ctx.beginPath();
        let open = false;
        for (let i = a; i < b; i++) {
          const v = tr.value[i];
          if (!finite(v)) {
            open = false;
            continue;
          }
          const x = xOf(tr.t[i]), y = yOf(v);
          if (open) ctx.lineTo(x, y);
          else {
            const alone = !(i + 1 < b && finite(tr.value[i + 1]));
            if (alone) ctx.rect(x - tr.thickness / 2, y - tr.thickness / 2, tr.thickness, tr.thickness);
            ctx.moveTo(x, y);
            open = true;
          }
        }
        ctx.stroke();
      }
      ctx.restore();
      let ty = y0 + 2;
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      ctx.font = `${fs}px ui-monospace, "DejaVu Sans Mono", monospace`;
      for (const tr of row.traces) {
        const text = readoutText(tr, k);
        const tw = ctx.measureText(text).width;
        ctx.fillStyle = "rgba(255,255,255,0.75)";
        ctx.fillRect(x0 + 2, ty, tw + 4, fs + 3);
        ctx.fillStyle = rgba(tr.color);
        ctx.fillText(text, x0 + 4, ty + 1);
        ty += fs + 4;
      }
      ctx.font = `${fs}px system-ui, sans-serif`;
    });
  }
}

export function readoutText(tr, k) {
  return `${tr.label} ${formatValue(tr.readout[k], tr.fmt)} ${tr.units}`.trimEnd();
}

// -- the overview strip: the first trace's readout over the whole range ---------------------------

class Overview {
  constructor(canvas, scene) {
    this.canvas = canvas;
    this.scene = scene;
    this.layout(canvas.clientWidth || 600, canvas.clientHeight || 32);
  }

  layout(w, h) {
    this.w = w;
    this.h = h;
    this.ctx = sizeCanvas(this.canvas, w, h);
    this.background = this.paint(w, h);
  }

  paint(w, h) {
    const off = document.createElement("canvas");
    const ctx = sizeCanvas(off, w, h);
    ctx.fillStyle = "#f0f0f0";
    ctx.fillRect(0, 0, w, h);
    const rows = this.scene.column || [];
    const tr = rows.length && rows[0].traces.length ? rows[0].traces[0] : null;
    if (!tr) return off;
    const v = tr.readout;
    const n = v.length;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) if (finite(v[i])) { lo = Math.min(lo, v[i]); hi = Math.max(hi, v[i]); }
    if (!(hi > lo)) return off;
    ctx.fillStyle = rgba(tr.color, 0.55);
    const cols = Math.max(1, Math.floor(w));
    for (let c = 0; c < cols; c++) {
      const i0 = Math.floor((c * n) / cols), i1 = Math.max(i0 + 1, Math.floor(((c + 1) * n) / cols));
      let a = Infinity, b = -Infinity;
      for (let i = i0; i < i1 && i < n; i++) if (finite(v[i])) { a = Math.min(a, v[i]); b = Math.max(b, v[i]); }
      if (a > b) continue;
      const ya = h - 2 - ((a - lo) / (hi - lo)) * (h - 4), yb = h - 2 - ((b - lo) / (hi - lo)) * (h - 4);
      ctx.fillRect(c, yb, 1, Math.max(1, ya - yb));
    }
    return off;
  }

  frameAt(x) {
    const n = this.scene.times.length;
    return clamp(Math.round((x / this.w) * (n - 1)), 0, n - 1);
  }

  draw(k) {
    const ctx = this.ctx;
    const n = this.scene.times.length;
    ctx.drawImage(this.background, 0, 0, this.w, this.h);
    const x = n > 1 ? (k / (n - 1)) * this.w : 0;
    ctx.fillStyle = "#d62728";
    ctx.fillRect(Math.round(x) - 1, 0, 2, this.h);
  }
}

// -- frame sources -----------------------------------------------------------------------------------

// The HTML player's frames: an embedded clip in a <video>. Which frame is shown comes from
// requestVideoFrameCallback's mediaTime looked up in the clip's frame-time table.
class ClipSource {
  constructor(player, scene) {
    this.player = player;
    this.table = scene.clip_times;
    const v = (this.element = document.createElement("video"));
    v.className = "nv-frame";
    v.muted = true;
    v.playsInline = true;
    v.preload = "auto";
    v.disablePictureInPicture = true;
    this.presented = 0; // frames presented so far (requestVideoFrameCallback's count)
    const onFrame = (_now, meta) => {
      this.presented++;
      player.shown(nearest(this.table, meta.mediaTime));
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    // a seek that lands on the frame already shown presents nothing new: the view is right as it is
    v.addEventListener("seeking", () => (this.before = this.presented));
    v.addEventListener("seeked", () => {
      requestAnimationFrame(() => requestAnimationFrame(() => {
        if (!v.seeking && this.presented === this.before && player.k >= 0) player.shown(player.k);
      }));
    });
    v.addEventListener("loadeddata", () => this.seek(player.wanted ?? 0), { once: true });
    v.addEventListener("pause", () => {
      player.playingChanged(false);
      // paused between two frame callbacks: settle on the frame of the paused time, so the frame and the traces agree
      const k = clamp(lowerBound(this.table, v.currentTime + 1e-6) - 1, 0, this.table.length - 1);
      if (!v.seeking && k !== player.k && player.wanted === null) player.seekFrame(k);
    });
    v.addEventListener("play", () => player.playingChanged(true));
    v.addEventListener("error", () => player.message(`This browser cannot play the embedded H.264 clip (${v.error && v.error.message}).`));
    v.src = URL.createObjectURL(new Blob([scene.clip], { type: "video/mp4" }));
  }

  get playing() {
    return !this.element.paused && !this.element.ended;
  }

  // Seek into the middle of frame k's presentation interval: that frame, whatever the rounding.
  seek(k) {
    if (k === this.player.k && this.element.paused && !this.element.seeking) {
      queueMicrotask(() => this.player.shown(k));
      return;
    }
    const t = this.table;
    const n = t.length;
    const next = k + 1 < n ? t[k + 1] : t[k] + (n > 1 ? t[n - 1] - t[n - 2] : 1 / 30);
    this.element.currentTime = (t[k] + next) / 2;
  }

  play(rate) {
    this.element.playbackRate = rate;
    if (this.player.k >= this.table.length - 1) this.seek(0);
    this.element.play().catch((e) => this.player.message(`Cannot play: ${e.message}`));
  }

  pause() {
    this.element.pause();
  }

  setRate(rate) {
    this.element.playbackRate = rate;
  }

  destroy() {
    this.element.pause();
    URL.revokeObjectURL(this.element.src);
  }
}

// Frames on a clock: playing advances session time at `rate` and shows the frame of that time
// once it is ready (arena views: at once; the widget: when its JPEG has arrived).
class ClockSource {
  constructor(player, scene) {
    this.player = player;
    this.times = scene.times;
    this.playing = false;
    this.rate = 1;
    this.tick = this.tick.bind(this);
  }

  play(rate) {
    const n = this.times.length;
    this.rate = rate;
    let k = this.player.k;
    if (k >= n - 1) {
      k = 0;
      this.seek(0);
    }
    this.t0 = this.times[k];
    this.w0 = performance.now();
    this.playing = true;
    this.player.playingChanged(true);
    requestAnimationFrame(this.tick);
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.player.playingChanged(false);
  }

  setRate(rate) {
    if (this.playing) {
      this.t0 = this.t0 + ((performance.now() - this.w0) / 1000) * this.rate;
      this.w0 = performance.now();
    }
    this.rate = rate;
  }

  tick() {
    if (!this.playing) return;
    const n = this.times.length;
    const t = this.t0 + ((performance.now() - this.w0) / 1000) * this.rate;
    const target = clamp(lowerBound(this.times, t + 1e-9) - 1, 0, n - 1);
    this.advance(target);
    if (target >= n - 1 && this.player.k >= n - 1) {
      this.pause();
      return;
    }
    requestAnimationFrame(this.tick);
  }

  destroy() {
    this.playing = false;
  }
}

// The arena view (no video): the panels' backgrounds, drawn once; every frame is ready at once.
class StaticSource extends ClockSource {
  constructor(player, scene) {
    super(player, scene);
    this.element = document.createElement("canvas");
    this.element.className = "nv-frame";
    this.element.width = scene.size[0];
    this.element.height = scene.size[1];
    const ctx = this.element.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, scene.size[0], scene.size[1]);
    for (const p of scene.panels) if (p.image) ctx.drawImage(p.image, p.rect[0], p.rect[1]);
  }

  seek(k) {
    queueMicrotask(() => this.player.shown(k));
  }

  advance(target) {
    if (target !== this.player.k) this.player.shown(target);
  }
}

// The widget's frames: JPEGs decoded by the kernel, asked for by timeline frame, kept in a cache.
class RemoteSource extends ClockSource {
  constructor(player, scene, model) {
    super(player, scene);
    this.model = model;
    this.element = document.createElement("canvas");
    this.element.className = "nv-frame";
    this.element.width = scene.size[0];
    this.element.height = scene.size[1];
    this.ctx = this.element.getContext("2d");
    this.cache = new Map();
    this.pending = new Map();
    this.want = null;
    this.onMessage = this.onMessage.bind(this);
    model.on("msg:custom", this.onMessage);
    this.watchdog = setInterval(() => this.expire(), 1000);
  }

  request(k) {
    if (k < 0 || k >= this.times.length || this.cache.has(k) || this.pending.has(k)) return;
    this.pending.set(k, performance.now());
    this.model.send({ type: "frame", k });
  }

  async onMessage(msg, buffers) {
    if (!msg || (msg.type !== "frame" && msg.type !== "error")) return;
    const k = msg.k;
    this.pending.delete(k);
    if (msg.type === "error") {
      this.player.message(msg.message);
      return;
    }
    const buf = buffers[0];
    const bytes = buf instanceof DataView ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf);
    let bitmap;
    try {
      bitmap = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
    } catch (e) {
      this.player.message(`Frame ${k} could not be decoded: ${e.message}`);
      return;
    }
    this.cache.set(k, bitmap);
    if (this.cache.size > CACHE_FRAMES) {
      const oldest = this.cache.keys().next().value;
      this.cache.get(oldest).close?.();
      this.cache.delete(oldest);
    }
    if (!this.playing && k === this.want) this.show(k);
  }

  expire() {
    const now = performance.now();
    for (const [k, since] of this.pending) {
      if (now - since > this.player.timeoutMs) {
        this.pending.delete(k);
        if (k === this.want) this.player.message(`Frame ${k} did not arrive from the kernel; try again (is the kernel busy or gone?).`);
      }
    }
  }

  show(k) {
    const bitmap = this.cache.get(k);
    this.cache.delete(k); // most recently used last
    this.cache.set(k, bitmap);
    this.ctx.drawImage(bitmap, 0, 0);
    this.player.shown(k);
  }

  seek(k) {
    this.want = k;
    if (this.cache.has(k)) this.show(k);
    else this.request(k);
  }

  advance(target) {
    this.want = target;
    for (let j = target; j > this.player.k; j--) {
      if (this.cache.has(j)) {
        this.show(j);
        break;
      }
    }
    const stride = Math.max(1, Math.round(this.rate));
    this.request(target);
    for (let j = target + stride; j <= target + PREFETCH * stride && this.pending.size < MAX_PENDING; j += stride) this.request(j);
  }

  destroy() {
    super.destroy();
    clearInterval(this.watchdog);
    this.model.off("msg:custom", this.onMessage);
    for (const b of this.cache.values()) b.close?.();
    this.cache.clear();
  }
}

// -- the player -------------------------------------------------------------------------------------

const STYLE = `
.nwbview { font: 13px system-ui, sans-serif; color: #222; outline: none; max-width: 100%; }
.nwbview .nv-title { font-weight: 600; margin: 0 0 6px; }
.nwbview .nv-note { color: #8a5a00; background: #fff6dd; padding: 4px 8px; margin: 0 0 6px; border-radius: 4px; }
.nwbview .nv-main { display: flex; gap: 8px; align-items: flex-start; }
.nwbview .nv-stage { position: relative; flex: 0 1 auto; background: #000; }
.nwbview .nv-frame, .nwbview .nv-overlay { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
.nwbview .nv-overlay { pointer-events: none; }
.nwbview .nv-message { position: absolute; left: 8px; right: 8px; bottom: 8px; color: #fff; background: rgba(160,0,0,.8);
  padding: 4px 8px; border-radius: 4px; display: none; }
.nwbview .nv-column { flex: 0 0 auto; background: #fff; cursor: crosshair; }
.nwbview .nv-overview { display: block; width: 100%; height: 28px; margin-top: 6px; cursor: pointer; }
.nwbview .nv-controls { display: flex; gap: 8px; align-items: center; margin-top: 6px; }
.nwbview .nv-slider { flex: 1 1 auto; }
.nwbview .nv-time { font-family: ui-monospace, monospace; white-space: pre; }
.nwbview .nv-readouts { font-family: ui-monospace, monospace; margin-top: 4px; display: flex; gap: 16px; flex-wrap: wrap; white-space: pre; }
`;

export class Player {
  // root: the element to fill; scene: unpacked; host: {kind: "clip" | "remote" | "static", model}
  constructor(root, scene, host) {
    this.root = root;
    this.scene = scene;
    this.host = host;
    this.k = -1;
    this.wanted = null;
    this.speed = 1;
    this.log = [];
    this.stepMs = [];
    this.onShown = null;
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
  }

  get n() {
    return this.scene.times.length;
  }

  get playing() {
    return this.source.playing;
  }

  async init() {
    const scene = this.scene;
    for (const panel of scene.panels) {
      if (panel.background) panel.image = await loadImage(panel.background);
      for (const o of panel.overlays) if (o.kind === "field" && o.png) o.image = await loadImage(o.png);
    }
    const [W, H] = scene.size;
    const root = this.root;
    root.classList.add("nwbview");
    root.tabIndex = 0;
    root.innerHTML = `<style>${STYLE}</style>
      <div class="nv-title"></div><div class="nv-note" hidden></div>
      <div class="nv-main"><div class="nv-stage"><canvas class="nv-overlay"></canvas><div class="nv-message"></div></div>
      <canvas class="nv-column"></canvas></div>
      <canvas class="nv-overview"></canvas>
      <div class="nv-controls"><button class="nv-play" type="button" title="play / pause (space)">▶</button>
      <select class="nv-speed" title="speed">${SPEEDS.map((s) => `<option value="${s}"${s === 1 ? " selected" : ""}>${s}×</option>`).join("")}</select>
      <input class="nv-slider" type="range" step="any" title="session time (s)"><span class="nv-time"></span></div>
      <div class="nv-readouts"></div>`;
    const $ = (sel) => root.querySelector(sel);
    this.el = { stage: $(".nv-stage"), overlay: $(".nv-overlay"), message: $(".nv-message"), column: $(".nv-column"),
      overview: $(".nv-overview"), play: $(".nv-play"), speed: $(".nv-speed"), slider: $(".nv-slider"), time: $(".nv-time"),
      readouts: $(".nv-readouts") };
    $(".nv-title").textContent = scene.title || "";
    if (scene.note) {
      $(".nv-note").hidden = false;
      $(".nv-note").textContent = scene.note;
    }
    const stage = this.el.stage;
    stage.style.width = `${W}px`;
    stage.style.maxWidth = scene.column_width ? `calc(100% - ${scene.column_width + 8}px)` : "100%";
    stage.style.aspectRatio = `${W} / ${H}`;
    this.octx = sizeCanvas(this.el.overlay, W, H);

    const kind = this.host.kind;
    this.source = kind === "clip" ? new ClipSource(this, scene) : kind === "remote" ? new RemoteSource(this, scene, this.host.model) : new StaticSource(this, scene);
    stage.insertBefore(this.source.element, this.el.overlay);

    const col = this.el.column;
    if (scene.column_width && scene.column.length) {
      col.style.width = `${scene.column_width}px`;
      col.style.height = `${Math.max(240, H)}px`;
      this.column = new ColumnView(col, scene.column, scene.times, !!scene.traces_windowed, scene.trace_span_s || 20);
      if (scene.traces_windowed && this.host.model) this.askTraces(this.host.model);
    } else col.style.display = "none";
    this.overview = new Overview(this.el.overview, scene);
    this.readouts = [];
    for (const row of scene.column) {
      for (const tr of row.traces) {
        const span = document.createElement("span");
        span.className = "nv-readout";
        span.dataset.label = tr.label;
        span.style.color = rgba(tr.color);
        this.el.readouts.appendChild(span);
        this.readouts.push([span, tr]);
      }
    }
    const slider = this.el.slider;
    slider.min = String(scene.times[0]);
    slider.max = String(scene.times[this.n - 1]);
    this.wire();
    this.resizer = new ResizeObserver(() => this.relayout());
    this.resizer.observe(stage);
    this.seekFrame(this.wanted ?? 0);
    return this;
  }

  // The widget over a long range: the traces' samples come from the kernel around the cursor, one request at a time.
  askTraces(model) {
    const column = this.column;
    let asked = null;
    let next = null;
    const send = (t0, t1) => {
      asked = { t0, t1, at: performance.now() };
      model.send({ type: "traces", t0, t1 });
    };
    column.onNeed = (t0, t1) => {
      if (asked && performance.now() - asked.at < this.timeoutMs) next = [t0, t1];
      else send(t0, t1);
    };
    this.onTraces = (msg, buffers) => {
      if (!msg || msg.type !== "traces") return;
      asked = null;
      if (msg.error) this.message(msg.error);
      else {
        const bufs = (buffers || []).map((b) => (b instanceof DataView ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : b));
        column.hold(msg.t0, msg.t1, unpack(msg.rows, bufs));
      }
      if (next) {
        const [t0, t1] = next;
        next = null;
        send(t0, t1);
      } else if (this.k >= 0) column.draw(this.k);
    };
    model.on("msg:custom", this.onTraces);
  }

  get timeoutMs() {
    return this.scene.frame_timeout_s ? this.scene.frame_timeout_s * 1000 : FRAME_TIMEOUT_MS;
  }

  wire() {
    const el = this.el;
    el.play.addEventListener("click", () => this.toggle());
    el.speed.addEventListener("change", () => this.setSpeed(Number(el.speed.value)));
    el.slider.addEventListener("pointerdown", () => (this.dragging = true));
    el.slider.addEventListener("pointerup", () => (this.dragging = false));
    el.slider.addEventListener("input", () => this.seekTime(Number(el.slider.value)));
    el.column.addEventListener("click", (e) => {
      if (!this.column || this.k < 0) return;
      const box = el.column.getBoundingClientRect();
      const t = this.column.timeAt(e.clientX - box.left, e.clientY - box.top, this.k);
      if (t !== null) this.seekTime(t);
    });
    el.overview.addEventListener("click", (e) => {
      const box = el.overview.getBoundingClientRect();
      this.seekFrame(this.overview.frameAt(e.clientX - box.left));
    });
    this.root.addEventListener("keydown", (e) => this.onKey(e));
  }

  onKey(e) {
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") this.step(e.key === "ArrowRight" ? 1 : -1);
    else if (e.key === " ") this.toggle();
    else return;
    e.preventDefault();
    e.stopPropagation();
  }

  relayout() {
    const h = Math.max(240, this.el.stage.clientHeight);
    if (this.column) {
      this.el.column.style.height = `${h}px`;
      this.column.layout(this.column.w, h);
    }
    this.overview.layout(this.el.overview.clientWidth || 600, this.el.overview.clientHeight || 28);
    if (this.k >= 0) {
      if (this.column) this.column.draw(this.k);
      this.overview.draw(this.k);
    }
  }

  // The source presented timeline frame k: draw what goes with it.
  shown(k) {
    const t0 = performance.now();
    const scene = this.scene;
    this.k = k;
    if (this.wanted === k) this.wanted = null;
    const [W, H] = scene.size;
    this.octx.clearRect(0, 0, W, H);
    drawOverlays(this.octx, scene, k);
    if (this.column) this.column.draw(k);
    this.overview.draw(k);
    const t = scene.times[k];
    if (!this.dragging) this.el.slider.value = String(t);
    const frame = scene.frames ? scene.frames[k] : null;
    this.el.time.textContent = `t = ${t.toFixed(3)} s · ${frame === null ? `step ${k}` : `frame ${frame}`}`;
    for (const [span, tr] of this.readouts) span.textContent = readoutText(tr, k);
    this.stepMs.push(performance.now() - t0);
    if (this.stepMs.length > 5000) this.stepMs.splice(0, 1000);
    this.log.push(k);
    if (this.log.length > 50000) this.log.splice(0, 10000);
    if (this.onShown) this.onShown(k);
    this.resolveReady(this);
  }

  seekFrame(k) {
    k = clamp(Math.round(k), 0, this.n - 1);
    this.wanted = k;
    if (this.source) this.source.seek(k);
  }

  seekTime(t) {
    this.seekFrame(nearest(this.scene.times, t));
  }

  step(d) {
    this.pause();
    this.seekFrame((this.wanted ?? this.k) + d);
  }

  play() {
    this.source.play(this.speed);
  }

  pause() {
    this.source.pause();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(rate) {
    this.speed = rate;
    this.el.speed.value = String(rate);
    this.source.setRate(rate);
  }

  playingChanged(playing) {
    this.el.play.textContent = playing ? "❚❚" : "▶";
    if (!playing && this.onPaused) this.onPaused();
  }

  message(text) {
    const m = this.el.message;
    m.textContent = text;
    m.style.display = "block";
    clearTimeout(this.messageTimer);
    this.messageTimer = setTimeout(() => (m.style.display = "none"), 8000);
  }

  destroy() {
    if (this.onTraces) this.host.model.off("msg:custom", this.onTraces);
    this.source?.destroy();
    this.resizer?.disconnect();
  }
}

// -- hosts -------------------------------------------------------------------------------------------

// The one-file HTML player: the scene is JSON in `dataElement` (buffers as base64).
export async function mountPage(root, dataElement) {
  const raw = JSON.parse(dataElement.textContent);
  const buffers = raw.buffers.map((b) => bytesFromBase64(b).buffer);
  const scene = unpack(raw.meta, buffers);
  const player = new Player(root, scene, { kind: scene.clip ? "clip" : "static" });
  globalThis.nwbview = player;
  await player.init();
  document.addEventListener("keydown", (e) => {
    if (e.target === document.body) player.onKey(e);
  });
  root.focus();
  return player;
}

function askScene(model) {
  return new Promise((resolve) => {
    const onMessage = (msg, buffers) => {
      if (!msg || msg.type !== "scene") return;
      model.off("msg:custom", onMessage);
      const bufs = (buffers || []).map((b) => (b instanceof DataView ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : b));
      resolve(unpack(msg.meta, bufs));
    };
    model.on("msg:custom", onMessage);
    model.send({ type: "scene" });
  });
}

// The notebook widget (anywidget): `frame` (video frame index) and `time` (session seconds)
// follow the frame shown, and moving them in the kernel moves the view.
async function render({ model, el }) {
  const scene = await askScene(model);
  const player = new Player(el, scene, { kind: scene.panels.some((p) => p.video) ? "remote" : "static", model });
  el.nwbview = player;
  const frames = scene.frames;
  const indexOf = () => {
    const f = model.get("frame");
    if (frames && f !== null && f !== undefined) {
      const k = f - frames[0];
      return frames[k] === f ? k : Array.prototype.indexOf.call(frames, f);
    }
    const t = model.get("time");
    return t === null || t === undefined ? 0 : nearest(scene.times, t);
  };
  let synced = 0;
  const sync = () => {
    const k = player.k;
    model.set("frame", frames ? frames[k] : null);
    model.set("time", scene.times[k]);
    model.save_changes();
    synced = performance.now();
  };
  player.onShown = () => {
    if (!player.playing || performance.now() - synced > 250) sync();
  };
  player.onPaused = () => player.k >= 0 && sync();
  const follow = () => {
    const k = indexOf();
    if (k >= 0 && k !== player.k && k !== player.wanted) player.seekFrame(k);
  };
  model.on("change:frame", follow);
  model.on("change:time", follow);
  player.wanted = indexOf();
  await player.init();
  return () => {
    model.off("change:frame", follow);
    model.off("change:time", follow);
    player.destroy();
  };
}

export default { render };
