/* gradcli's live page: the script (inlined into every page by page.py).
 *
 * The page holds the program's whole tape (D, from page.py) and the op
 * table as JavaScript (OPS, generated from ops.py). It recomputes forward
 * and backward exactly as the engine does: forward up the tape, backward as
 * the steps of `gradcli explain` (D.steps, from explain.steps), the output's
 * seed first. Everything shown is formatted as gradcli formats it (short =
 * Python's "%.6g", full = Python's repr), and errors read as the command
 * line's do.
 *
 * window.gradcli (the contract, section 4): result(), set(NAME, VALUE),
 * steps(), step(K).
 */
(function () {
"use strict";

/* The page's HTML dropped raw into another document (a notebook's
 * IPython.display.HTML(page)): its styles hold only in <html data-gradcli>,
 * and this script moves the page, from its <meta charset> to this script,
 * into a sandboxed frame of its own (as gradcli.draw's frame in a notebook),
 * so that nothing of it (ids, keys, styles) touches the document around it. */
if (!document.documentElement.hasAttribute("data-gradcli")) {
  const me = document.currentScript;
  if (!me || !me.parentNode) return;
  const mine = [me];
  for (let n = me.previousSibling; n; n = n.previousSibling) {
    mine.unshift(n);
    if (n.nodeType === 1 && n.matches("meta[charset]")) break;
  }
  const text = mine.map(n => n.nodeType === 1 ? n.outerHTML : n.nodeType === 3 ? n.textContent.replace(/&/g, "&amp;").replace(/</g, "&lt;") : "").join("");
  const frame = document.createElement("iframe");
  frame.className = "gradcli-page";
  frame.title = "gradcli graph";
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.cssText = "width:100%;height:620px;border:1px solid #ddd";   // draw.FRAME_HEIGHT
  frame.srcdoc = '<!DOCTYPE html>\n<html lang="en" data-gradcli>\n' + text + "\n</html>";
  me.parentNode.insertBefore(frame, mine[0]);
  for (const n of mine) n.remove();
  return;
}

const D = JSON.parse(document.getElementById("gradcli-data").textContent);
const N = D.op.length;
const OUT = D.out;
const P = D.precision;
const INFIX = { "+": 1, "-": 1, "*": 1, "/": 1, "**": 1 };

/* ------------------------------------------------------------ numbers */

/** Python's repr of a float. */
function full(x) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, es] = x.toExponential().split("e");
  const e = Number(es);
  const digits = mant.replace("-", "").replace(".", "");
  const sign = x < 0 ? "-" : "";
  if (e >= -4 && e < 16) {
    if (e >= 0) {
      const int = digits.slice(0, e + 1).padEnd(e + 1, "0");
      return sign + int + "." + (digits.slice(e + 1) || "0");
    }
    return sign + "0." + "0".repeat(-e - 1) + digits;
  }
  const m = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "");
  return sign + m + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
}

/** Python's f"{x + 0.0:.{p}g}", with "0" for zero (gradcli's render.short). */
function short(x, p) {
  if (p === undefined) p = P;
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  // p significant digits, rounded half to even on the exact binary value
  const [m0, e0] = Math.abs(x).toExponential(Math.min(100, p + 39)).split("e");
  const all = m0.replace(".", "");
  let kept = all.slice(0, p).split("").map(Number);
  const rest = all.slice(p);
  let e = Number(e0);
  let up = false;
  if (rest[0] > "5") up = true;
  else if (rest[0] === "5") up = /[1-9]/.test(rest.slice(1)) || kept[kept.length - 1] % 2 === 1;
  if (up) {
    let k = kept.length - 1;
    while (k >= 0 && kept[k] === 9) { kept[k] = 0; k--; }
    if (k >= 0) kept[k] += 1; else { kept.unshift(1); kept.pop(); e += 1; }
  }
  const sign = x < 0 ? "-" : "";
  let ds = kept.join("");
  if (e >= -4 && e < p) {
    let s;
    if (e >= 0) s = ds.slice(0, e + 1) + "." + ds.slice(e + 1);
    else s = "0." + "0".repeat(-e - 1) + ds;
    s = s.replace(/\.?0+$/, "");
    if (s.endsWith(".")) s = s.slice(0, -1);
    return sign + s;
  }
  let m = ds[0] + "." + ds.slice(1);
  m = m.replace(/\.?0+$/, "");
  return sign + m + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
}

/** engine.literal: an operand as an error message writes it. */
function num(v) {
  if (Number.isFinite(v) && Number.isInteger(v) && Math.abs(v) < 1e16) return String(v === 0 ? 0 : v);
  return full(v);
}

/** engine.describe: `4 / 0`, `log(-1)`, `-(2)`. */
function describe(op, operands) {
  const shown = operands.map(num);
  if (INFIX[op]) {
    const [l, r] = shown.map(s => (s.startsWith("-") ? "(" + s + ")" : s));
    return l + " " + op + " " + r;
  }
  if (op === "neg") return "-(" + shown[0] + ")";
  return op + "(" + shown.join(", ") + ")";
}

/** GradcliError.render: the message as the command line prints it. */
function renderError(kind, message, pos, notes) {
  const lines = [kind + ": " + message];
  if (pos) {
    const [line, column, length] = pos;
    lines.push(" --> " + (D.filename ? D.filename + ":" : "") + line + ":" + column);
    const src = D.source.split("\n");
    if (line >= 1 && line <= src.length) {
      const text = src[line - 1].replace(/\r$/, "");
      const chars = Array.from(text);
      const gutter = String(line);
      const pad = " ".repeat(gutter.length);
      const indent = chars.slice(0, column - 1).map(c => (c === "\t" ? "\t" : " ")).join("");
      const width = Math.max(1, Math.min(length, chars.length - column + 1));
      lines.push(pad + " |", gutter + " | " + text, pad + " | " + indent + "^".repeat(width));
    }
  }
  for (const note of notes || []) lines.push("  = note: " + note);
  return lines.join("\n");
}

/* ------------------------------------------------------------ the engine */

const CH = D.ch, OP = D.op, KIND = D.kind;
const LEAVES = D.leaves;                 // [[name, index], ...] in grad's order
const LEAF = new Map(LEAVES);
const STEPS = D.steps;                   // explain.steps: [[node, [[child, operand, use, uses], ...]], ...]
const NSTEPS = STEPS.length + 1;         // the seed, then each operation
const texts = D.texts;                   // op node -> [expression, [rule per operand]]

const initial = new Float64Array(N);
for (let i = 0; i < N; i++) initial[i] = D.data[i] === null ? NaN : D.data[i];

let start = [], nContrib = 0;
for (const [, cs] of STEPS) { start.push(nContrib); nContrib += cs.length; }
start.push(nContrib);

function call(f, args, extra) {
  switch (args.length) {
    case 1: return extra === undefined ? f(args[0]) : f(args[0], extra);
    case 2: return extra === undefined ? f(args[0], args[1]) : f(args[0], args[1], extra);
    default: return extra === undefined ? f(...args) : f(...args, extra);
  }
}

function local(i, k, data) {
  const args = CH[i].map(c => data[c]);
  try { return call(OPS[OP[i]].d[k], args, data[i]); } catch (e) { return NaN; }
}

/** What operand k of node i receives from the upstream gradient g: the
 *  row's chain rule (g * local, but for the rules that divide: log, /). */
function passed(i, k, g, data) {
  const args = CH[i].map(c => data[c]);
  try { return OPS[OP[i]].c[k](g, ...args, data[i]); } catch (e) { return NaN; }
}

/** Forward and backward at the leaves' values in `leafData` (index -> value).
 *  Returns {state} or {error: text, node}. */
function compute(values) {
  const data = new Float64Array(initial);
  for (const [, i] of LEAVES) data[i] = values[i];
  for (let i = 0; i < N; i++) {
    const op = OP[i];
    if (!op) continue;
    const args = CH[i].map(c => data[c]);
    let out, reason = null;
    try { out = call(OPS[op].f, args); } catch (e) { if (e instanceof RangeError) reason = e.message; else throw e; }
    if (reason === null && !Number.isFinite(out)) reason = Number.isNaN(out) ? "the result is not a number" : "the result overflows";
    if (reason !== null) {
      return { node: i, error: renderError(D.mathKind, reason + ": `" + describe(op, args) + "`", D.pos[i], []) };
    }
    data[i] = out;
  }
  const acc = new Float64Array(N);
  const up = new Float64Array(STEPS.length);
  const cLocal = new Float64Array(nContrib), cProd = new Float64Array(nContrib);
  const cBefore = new Float64Array(nContrib), cAfter = new Float64Array(nContrib);
  acc[OUT] = 1;
  for (let s = 0; s < STEPS.length; s++) {
    const [i, cs] = STEPS[s];
    const g = acc[i];
    up[s] = g;
    for (let j = 0; j < cs.length; j++) {
      const [c, k] = cs[j];
      const d = local(i, k, data);
      const product = passed(i, k, g, data);
      const at = start[s] + j;
      cLocal[at] = d; cProd[at] = product; cBefore[at] = acc[c];
      acc[c] = acc[c] + product;
      cAfter[at] = acc[c];
    }
  }
  const bad = LEAVES.filter(([, i]) => !Number.isFinite(acc[i]));
  if (bad.length) return blame(data, acc, bad);
  return { state: { data, acc, up, cLocal, cProd, cBefore, cAfter } };
}

/** engine._blame: the operation whose derivative made a reported gradient not finite. */
function blame(data, acc, bad) {
  const wanted = new Set(bad.map(([, i]) => i));
  const leads = new Uint8Array(N);
  for (let i = 0; i <= OUT; i++) {
    if (wanted.has(i) || CH[i].some(c => leads[c])) leads[i] = 1;
  }
  const reached = new Uint8Array(N);
  reached[OUT] = 1;
  const names = bad.map(([name]) => "`" + name + "`").join(", ");
  for (let i = OUT; i >= 0; i--) {
    if (reached[i]) for (const c of CH[i]) reached[c] = 1;
    if (!CH[i].length || !Number.isFinite(acc[i]) || !leads[i] || !reached[i]) continue;
    const args = CH[i].map(c => data[c]);
    for (let k = 0; k < CH[i].length; k++) {
      const c = CH[i][k];
      if (KIND[c] === "const" || !leads[c]) continue;
      const d = local(i, k, data);
      if (!Number.isFinite(passed(i, k, acc[i], data))) {
        const which = args.length > 1 ? " with respect to operand " + (k + 1) : "";
        const what = !Number.isFinite(d) ? "is not finite" : "overflows";
        const notes = names ? ["so the gradient of " + names + " is not finite"] : [];
        return { node: i, error: renderError(D.mathKind, "the derivative of `" + describe(OP[i], args) + "`" + which + " " + what, D.pos[i], notes) };
      }
    }
  }
  const first = bad[0][1];
  return { node: first, error: renderError(D.mathKind, "the gradient of " + (names || "a reported node") + " is not finite", D.pos[first], []) };
}

/* ------------------------------------------------------------ page state */

const values = new Float64Array(N);              // the leaves' current values, by tape index
for (const [, i] of LEAVES) values[i] = initial[i];
let state = null;                                // the last good computation
let error = null;                                // {error, node} while the leaves are where an op is undefined
let K = D.startAtEnd ? NSTEPS : 0;               // the step shown
let quiz = false;
const solved = new Set();
const shown = D.shown;

const $ = id => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";
const REDUCED = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

function result() {
  if (error) return { error: error.error };
  // keyed by the user's names: no prototype (a leaf may be called __proto__)
  const grad = Object.create(null);
  for (const [name, i] of LEAVES) grad[name] = state.acc[i] + 0;
  return { value: state.data[OUT] + 0, grad };
}

/** Each node's grad after K steps: NaN where no step has reached it yet. */
function gradsAt(k) {
  const g = new Float64Array(N).fill(NaN);
  if (k >= 1) g[OUT] = 1;
  for (let s = 0; s < k - 1 && s < STEPS.length; s++) {
    const cs = STEPS[s][1];
    for (let j = 0; j < cs.length; j++) g[cs[j][0]] = state.cAfter[start[s] + j];
  }
  if (k >= NSTEPS) for (const [, i] of LEAVES) if (Number.isNaN(g[i])) g[i] = 0;
  return g;
}

function changedBy(k) {
  if (k < 1 || k > NSTEPS) return [];
  if (k === 1) return [OUT];
  const seen = new Set();
  for (const [c] of STEPS[k - 2][1]) seen.add(c);
  return [...seen];
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function esc(t) {
  return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/* ------------------------------------------------------------ the picture
 * The geometry comes from page.py (layout.py's coordinates); only what is
 * on screen is in the DOM (a few dozen elements at a readable zoom, however
 * big the graph), made when the camera brings it into view. */

const G = D.geo;
const NB = G.b.length / 7, NE = G.e.length / 10;
const BB = Int32Array.from(G.b), EE = Int32Array.from(G.e);
const boxW = new Float64Array(NB);
const valueBox = new Map(), opBox = new Map(), edgeAt = new Map();
for (let b = 0; b < NB; b++) {
  boxW[b] = BB[b * 7 + 4];
  const shape = BB[b * 7], i = BB[b * 7 + 1];
  if (shape === 0 || shape === 2 || shape === 3) valueBox.set(i, b); else opBox.set(i, b);
}
for (let e = 0; e < NE; e++) edgeAt.set(EE[e * 10 + 2] * 3 + EE[e * 10 + 3] + 1, e);
const drawnValue = new Set();
for (let b = 0; b < NB; b++) if (BB[b * 7] === 0) drawnValue.add(BB[b * 7 + 1]);
const ROW = 21, PAD = 8, TAG = 34, MINCH = 4;
let CH_W = 7.9;                 // measured below: the monospace font's character
const READ = 1;              // the zoom at which the smallest text is 12 px
const FAR = 0.45;           // below this zoom, boxes without text

const svgRoot = $("graph"), gEdges = $("edges"), gNodes = $("nodes"), gLabels = $("labels");
const canvas = $("canvas");
const liveBox = new Map(), liveEdge = new Map();
const dText = new Map(), gText = new Map();      // node -> tspan, for the value boxes on screen
let far = false;
const marks = new Map();                          // element id -> class added by the step shown

function kindClass(i) {
  return i === OUT ? "v out" : "v " + KIND[i];
}

function makeBox(b) {
  const o = b * 7, shape = BB[o], i = BB[o + 1], left = BB[o + 2], top = BB[o + 3], h = BB[o + 5];
  const w = boxW[b], t = G.t[b];
  const g = document.createElementNS(SVGNS, "g");
  if (shape === 0) {
    g.setAttribute("class", kindClass(i) + (solved.has(i) ? " solved" : ""));
    g.id = "n" + i;
    g.setAttribute("data-node", "n" + i);
    g.setAttribute("transform", "translate(" + left + "," + top + ")");
    if (far) {
      g.innerHTML = '<rect class="box" width="' + w + '" height="' + h + '" rx="6"/>';
    } else {
      const split = BB[o + 6];
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      const named = D.label[i] ? "" : " anon";
      g.innerHTML = "<title>" + esc(shown[i] + " \u00B7 n" + i + (LEAF.has(D.label[i]) && LEAF.get(D.label[i]) === i ? " (drag its number to change it)" : "")) + "</title>" +
        '<rect class="box" width="' + w + '" height="' + h + '" rx="6"/>' +
        '<rect class="gcell" x="' + split + '" y="' + ROW + '" width="' + (w - split) + '" height="' + ROW + '"/>' +
        '<path class="sep" d="M' + split + ',0v' + h + "M" + split + "," + ROW + "H" + w + '"/>' +
        '<text class="name' + named + '" x="' + split / 2 + '" y="' + (h / 2 + 5) + '">' + esc(t) + "</text>" +
        '<text class="num" x="' + (split + PAD) + '" y="' + (ROW - 6) + '">data<tspan class="d" x="' + (split + PAD + TAG) + '"></tspan></text>' +
        '<text class="num" x="' + (split + PAD) + '" y="' + (2 * ROW - 6) + '">grad<tspan class="g" x="' + (split + PAD + TAG) + '"></tspan></text>';
      dText.set(i, g.querySelector("tspan.d"));
      gText.set(i, g.querySelector("tspan.g"));
    }
  } else if (shape === 1 || shape === 2) {
    g.setAttribute("class", shape === 1 ? "op" : "const");
    g.id = shape === 1 ? "n" + i + "op" : "n" + i;
    if (shape === 2) g.setAttribute("data-node", "n" + i);      // a number is a value too
    g.setAttribute("transform", "translate(" + (left + w / 2) + "," + (top + h / 2) + ")");
    g.innerHTML = '<ellipse rx="' + w / 2 + '" ry="' + h / 2 + '"/>' + (far ? "" : '<text y="5">' + esc(t) + "</text>");
  } else {
    g.setAttribute("class", "stub");
    g.id = "n" + i;
    g.setAttribute("transform", "translate(" + left + "," + top + ")");
    g.innerHTML = '<rect width="' + w + '" height="' + h + '" rx="5"/>' + (far ? "" : '<text x="' + w / 2 + '" y="' + (h / 2 + 5) + '">' + esc(t) + "</text>");
  }
  const m = marks.get(g.id);
  if (m) g.classList.add(...m);
  return g;
}

function makeEdge(e) {
  const p = document.createElementNS(SVGNS, "path");
  const op = EE[e * 10 + 2], k = EE[e * 10 + 3];
  p.id = k < 0 ? "e" + op : "e" + op + "_" + k;
  p.setAttribute("class", "e");
  p.setAttribute("d", G.d[e]);
  const m = marks.get(p.id);
  if (m) p.classList.add(...m);
  return p;
}

/* ------------------------------------------------------------ the camera */

const cam = { x: 0, y: 0, s: 1 };       // the picture's point at the canvas's top left, and the zoom
let anim = null;

function viewSize() { const r = svgRoot.getBoundingClientRect(); return [Math.max(50, r.width), Math.max(50, r.height)]; }

function render() {
  const [cw, ch] = viewSize();
  svgRoot.setAttribute("viewBox", cam.x + " " + cam.y + " " + cw / cam.s + " " + ch / cam.s);
  const wasFar = far;
  far = cam.s < FAR;
  if (far !== wasFar) {
    for (const n of liveBox.values()) n.remove();
    liveBox.clear(); dText.clear(); gText.clear();
    svgRoot.classList.toggle("far", far);
  }
  const m = 60 / cam.s;
  const x0 = cam.x - m, y0 = cam.y - m, x1 = cam.x + cw / cam.s + m, y1 = cam.y + ch / cam.s + m;
  let added = false;
  const frag = document.createDocumentFragment();
  for (let b = 0; b < NB; b++) {
    const o = b * 7;
    // far out, only the value nodes are elements (the rest is painted on the canvas below)
    const inView = (!far || BB[o] === 0 || BB[o] === 2) && BB[o + 2] < x1 && BB[o + 2] + boxW[b] > x0 && BB[o + 3] < y1 && BB[o + 3] + BB[o + 5] > y0;
    const node = liveBox.get(b);
    if (inView && !node) { const g = makeBox(b); liveBox.set(b, g); frag.append(g); added = true; }
    else if (!inView && node) {
      node.remove(); liveBox.delete(b);
      if (BB[o] === 0) { dText.delete(BB[o + 1]); gText.delete(BB[o + 1]); }
    }
  }
  gNodes.append(frag);
  const efrag = document.createDocumentFragment();
  for (let e = 0; e < NE; e++) {
    const o = e * 10;
    const inView = !far && EE[o + 4] < x1 && EE[o + 6] > x0 && EE[o + 5] < y1 && EE[o + 7] > y0;
    const node = liveEdge.get(e);
    if (inView && !node) { const p = makeEdge(e); liveEdge.set(e, p); efrag.append(p); }
    else if (!inView && node) { node.remove(); liveEdge.delete(e); }
  }
  gEdges.append(efrag);
  paintFar(x0, y0, x1, y1);
  if (added && state) numbers(true);
  minimap();
}

/* far out: the edges and operations painted on a canvas (thousands of them
   as elements would make every frame slow) */
const farCanvas = $("far");
let paths2d = null, farBase = null;
function paintFar(x0, y0, x1, y1) {
  const ctx = farCanvas.getContext("2d");
  if (!far) { if (!farCanvas.hidden) { ctx.clearRect(0, 0, farCanvas.width, farCanvas.height); farCanvas.hidden = true; } return; }
  farCanvas.hidden = false;
  const [cw, ch] = viewSize(), dpr = window.devicePixelRatio || 1;
  if (farCanvas.width !== Math.round(cw * dpr) || farCanvas.height !== Math.round(ch * dpr)) {
    farCanvas.width = Math.round(cw * dpr); farCanvas.height = Math.round(ch * dpr);
  }
  // the gray picture is drawn once per camera position; a step only paints its orange on a copy
  const key = cam.x + "," + cam.y + "," + cam.s + "," + farCanvas.width + "," + farCanvas.height;
  if (!farBase || farBase.key !== key) {
    if (!farBase) farBase = { key: "", canvas: document.createElement("canvas") };
    const base = farBase.canvas;
    base.width = farCanvas.width; base.height = farCanvas.height;
    const bx = base.getContext("2d");
    bx.setTransform(dpr * cam.s, 0, 0, dpr * cam.s, -cam.x * dpr * cam.s, -cam.y * dpr * cam.s);
    if (!paths2d) paths2d = new Array(NE);
    bx.lineWidth = 1 / cam.s;
    bx.strokeStyle = "#8c959f";
    for (let e = 0; e < NE; e++) {
      const o = e * 10;
      if (!(EE[o + 4] < x1 && EE[o + 6] > x0 && EE[o + 5] < y1 && EE[o + 7] > y0)) continue;
      if (!paths2d[e]) paths2d[e] = new Path2D(G.d[e]);
      bx.stroke(paths2d[e]);
    }
    // the boxes too (their elements stay, unpainted, to say where they are: painting
    // thousands of elements made every frame slow)
    const FILL = { leaf: "#b7e4b0", input: "#b3d1fb", op: "#dde3e9", const: "#e6e6e6" };
    for (let b = 0; b < NB; b++) {
      const o = b * 7;
      if (!(BB[o + 2] < x1 && BB[o + 2] + boxW[b] > x0 && BB[o + 3] < y1 && BB[o + 3] + BB[o + 5] > y0)) continue;
      const i = BB[o + 1];
      bx.fillStyle = BB[o] === 1 ? "#c4ccd4" : i === OUT ? "#ffd257" : FILL[KIND[i]] || "#dde3e9";
      bx.fillRect(BB[o + 2], BB[o + 3], boxW[b], BB[o + 5]);
    }
    farBase.key = key;
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, farCanvas.width, farCanvas.height);
  ctx.drawImage(farBase.canvas, 0, 0);
  if (K < 2) return;
  if (!paths2d) paths2d = new Array(NE);
  ctx.setTransform(dpr * cam.s, 0, 0, dpr * cam.s, -cam.x * dpr * cam.s, -cam.y * dpr * cam.s);
  const hotOp = STEPS[K - 2][0];
  ctx.strokeStyle = "#e8590c";
  ctx.lineWidth = 3 / cam.s;
  for (let k = -1; k < CH[hotOp].length; k++) {
    const e = edgeAt.get(hotOp * 3 + k + 1);
    if (e === undefined) continue;
    if (!paths2d[e]) paths2d[e] = new Path2D(G.d[e]);
    ctx.stroke(paths2d[e]);
  }
  const ob = opBox.get(hotOp);
  if (ob !== undefined) { ctx.fillStyle = "#e8590c"; ctx.fillRect(BB[ob * 7 + 2], BB[ob * 7 + 3], boxW[ob], BB[ob * 7 + 5]); }
  ctx.fillStyle = "#ffa94d";
  for (const c of changedBy(K)) {
    const b = valueBox.get(c);
    if (b !== undefined) ctx.fillRect(BB[b * 7 + 2], BB[b * 7 + 3], boxW[b], BB[b * 7 + 5]);
  }
}

function setCam(x, y, s) {
  cam.s = Math.max(minScale(), Math.min(3, s));
  cam.x = x; cam.y = y;
  render();
}

function minScale() {
  const [cw, ch] = viewSize();
  return Math.min(0.5, Math.min(cw / G.W, ch / G.H) * 0.9);
}

function moveTo(x, y, s, smooth) {
  if (anim) { cancelAnimationFrame(anim.raf); anim = null; }
  if (!smooth || REDUCED) { setCam(x, y, s); return; }
  const from = { x: cam.x, y: cam.y, s: cam.s }, t0 = performance.now(), T = 320;
  const tick = now => {
    const t = Math.min(1, (now - t0) / T), u = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2;
    setCam(from.x + (x - from.x) * u, from.y + (y - from.y) * u, from.s + (s - from.s) * u);
    anim = t < 1 ? { raf: requestAnimationFrame(tick) } : null;
  };
  anim = { raf: requestAnimationFrame(tick) };
}

/** Frame the rectangle [x0, y0, x1, y1] at zoom s, centred. */
function frame(r, s, smooth) {
  const [cw, ch] = viewSize();
  moveTo((r[0] + r[2]) / 2 - cw / s / 2, (r[1] + r[3]) / 2 - ch / s / 2, s, smooth);
}

function fitScale(r, pad) {
  const [cw, ch] = viewSize();
  return Math.min((cw - 2 * pad) / Math.max(1, r[2] - r[0]), (ch - 2 * pad) / Math.max(1, r[3] - r[1]));
}

function boxRect(b) {
  const o = b * 7;
  return [BB[o + 2], BB[o + 3], BB[o + 2] + boxW[b], BB[o + 3] + BB[o + 5]];
}

function union(rs) {
  const r = [Infinity, Infinity, -Infinity, -Infinity];
  for (const q of rs) { r[0] = Math.min(r[0], q[0]); r[1] = Math.min(r[1], q[1]); r[2] = Math.max(r[2], q[2]); r[3] = Math.max(r[3], q[3]); }
  return r;
}

/** The boxes of step k: [the operation and its value], [its operands]. */
function stepRects(k) {
  if (k < 1) return null;
  if (k === 1 || k > NSTEPS) { const b = valueBox.get(OUT); return b === undefined ? null : [[boxRect(b)], []]; }
  const [i, cs] = STEPS[k - 2];
  const main = [], rest = [];
  if (opBox.has(i)) main.push(boxRect(opBox.get(i)));
  if (valueBox.has(i)) main.push(boxRect(valueBox.get(i)));
  for (const [c] of cs) if (valueBox.has(c)) rest.push(boxRect(valueBox.get(c)));
  return main.length ? [main, rest] : null;
}

/** Bring step k into view: its operation and value always, its operands
 *  and edges too when they fit at a zoom where text can still be read;
 *  the camera moves as little as it can. */
function follow(k, smooth) {
  const got = stepRects(k);
  if (!got) return;
  const [main, rest] = got;
  const pad = 24;
  const [cw, ch] = viewSize();
  let r = union(main.concat(rest));
  let s = Math.min(cam.s, fitScale(r, pad));
  let alone = false;
  if (s < Math.min(cam.s, 0.6)) { r = union(main); s = Math.min(cam.s, fitScale(r, pad)); alone = true; }
  const vw = cw / s, vh = ch / s;
  let x = cam.x + (cw / cam.s - vw) / 2, y = cam.y + (ch / cam.s - vh) / 2;   // zoom about the centre
  if (alone && (r[0] < x + 0.15 * vw || r[2] > x + 0.85 * vw)) {
    // the operands are far: the operation a little right of the middle, its edges coming in from the left
    x = (r[0] + r[2]) / 2 - 0.62 * vw;
  } else if (r[2] - r[0] + 2 * pad / s > vw) x = (r[0] + r[2]) / 2 - vw / 2;
  else if (r[0] - pad / s < x) x = r[0] - pad / s;
  else if (r[2] + pad / s > x + vw) x = r[2] + pad / s - vw;
  if (r[3] - r[1] + 2 * pad / s > vh) y = (r[1] + r[3]) / 2 - vh / 2;
  else if (r[1] - pad / s < y) y = r[1] - pad / s;
  else if (r[3] + pad / s > y + vh) y = r[3] + pad / s - vh;
  if (x !== cam.x || y !== cam.y || s !== cam.s) moveTo(x, y, s, smooth);
}

/** The first view: the whole graph if it fits at a readable zoom; else the
 *  output and the first step at a readable zoom. */
function initialView() {
  const all = [0, 0, G.W, G.H];
  const s = fitScale(all, 8);
  if (s >= READ || NB === 0) { frame(all, Math.min(1.6, Math.max(s, 0.05)), false); return; }
  const got = stepRects(Math.min(2, NSTEPS));
  const ob = valueBox.get(OUT);
  if (!got && ob === undefined) { frame(all, READ, false); return; }
  const main = got ? got[0] : [], rest = got ? got[1] : [];
  if (ob !== undefined) main.push(boxRect(ob));
  // the output at the right of the view at a readable zoom, what led to it on its left
  let r = union(main.concat(rest));
  if (fitScale(r, 16) < READ) r = union(main);
  const [cw, ch] = viewSize(), sc = Math.min(READ, Math.max(0.3, fitScale(r, 16)));
  moveTo(r[2] + 24 / sc - cw / sc, (r[1] + r[3]) / 2 - ch / sc / 2, sc, false);
}

function zoomAt(f, px, py) {
  const [cw, ch] = viewSize();
  if (px === undefined) { px = cw / 2; py = ch / 2; }
  const s = Math.max(minScale(), Math.min(3, cam.s * f));
  const wx = cam.x + px / cam.s, wy = cam.y + py / cam.s;
  moveTo(wx - px / s, wy - py / s, s, false);
}

/* the overview of a big graph: every box as a dot, the view as a frame */
const mini = $("minimap");
let miniBase = null;
function minimap() {
  if (NB < 150) return;
  mini.hidden = false;
  const ctx = mini.getContext("2d"), mw = mini.width, mh = mini.height;
  const k = Math.min(mw / G.W, mh / G.H);
  if (!miniBase) {
    ctx.clearRect(0, 0, mw, mh);
    ctx.fillStyle = "#8c959f";
    for (let b = 0; b < NB; b++) {
      if (BB[b * 7] !== 0) continue;
      ctx.fillRect(BB[b * 7 + 2] * k, BB[b * 7 + 3] * k, Math.max(1, boxW[b] * k), Math.max(1, BB[b * 7 + 5] * k));
    }
    miniBase = ctx.getImageData(0, 0, mw, mh);
  }
  ctx.putImageData(miniBase, 0, 0);
  const [cw, ch] = viewSize();
  ctx.strokeStyle = "#e8590c"; ctx.lineWidth = 2;
  ctx.strokeRect(cam.x * k, cam.y * k, Math.max(3, cw / cam.s * k), Math.max(3, ch / cam.s * k));
}

/* ------------------------------------------------------------ numbers on the picture */

const lastD = new Map(), lastG = new Map();

/** A number into its cell; the cell (and its box) grows to hold it. */
function put(i, tspan, t) {
  tspan.textContent = t;
  const b = valueBox.get(i);
  const o = b * 7, split = BB[o + 6];
  const need = split + 2 * PAD + TAG + Math.max(MINCH, t.length) * CH_W;
  if (need > boxW[b] + 0.5) {
    boxW[b] = Math.ceil(need);
    const g = liveBox.get(b);
    if (g) {
      const w = boxW[b];
      g.querySelector("rect.box").setAttribute("width", w);
      g.querySelector("rect.gcell").setAttribute("width", w - split);
      g.querySelector("path.sep").setAttribute("d", "M" + split + ",0v" + BB[o + 5] + "M" + split + "," + ROW + "H" + w);
    }
  }
}

function gradHidden(i) { return quiz && !solved.has(i); }

function numbers(onlyNew) {
  const g = gradsAt(K);
  for (const [i, span] of dText) {
    const t = short(state.data[i]);
    if (onlyNew && lastD.get(span) === t) continue;
    if (lastD.get(span) !== t) { put(i, span, t); lastD.set(span, t); }
  }
  for (const [i, span] of gText) {
    let t = Number.isNaN(g[i]) ? "" : short(g[i]);
    if (gradHidden(i) && t !== "") t = "?";
    if (lastG.get(span) !== t) { put(i, span, t); lastG.set(span, t); }
  }
}

function draw(smooth) {
  if (!state) return;
  numbers(false);
  for (const node of svgRoot.querySelectorAll(".hot, .changed, .seed")) node.classList.remove("hot", "changed", "seed");
  marks.clear();
  const mark = (id, cls) => {
    const list = marks.get(id) || [];
    list.push(cls); marks.set(id, list);
    const node = document.getElementById(id);
    if (node) node.classList.add(cls);
  };
  if (K === 1) mark("n" + OUT, "seed");
  if (K >= 2) {
    const [i, cs] = STEPS[K - 2];
    mark("n" + i + "op", "hot");
    mark("e" + i, "hot");
    mark("n" + i, "seed");
    for (const [, k] of cs) mark("e" + i + "_" + k, "hot");
  }
  for (const c of changedBy(K)) mark("n" + c, "changed");
  if (far) render();
  edgeLabels();
  $("heading").textContent = D.outName + " = " + short(state.data[OUT]);
  $("counter").textContent = "step " + K + " of " + NSTEPS;
  $("steptext").replaceChildren(stepText(K));
  $("first").disabled = $("prev").disabled = K === 0;
  $("next").disabled = $("last").disabled = K === NSTEPS;
  if (inspected !== null) inspect(inspected);
  if (smooth !== undefined) follow(K, smooth);
}

/** The local derivative and the contribution, written on the highlighted edges. */
function edgeLabels() {
  gLabels.replaceChildren();
  if (K < 2 || !state) return;
  const s = K - 2, [i, cs] = STEPS[s];
  const seen = new Map();
  for (let j = 0; j < cs.length; j++) {
    const [c, k] = cs[j];
    const e = edgeAt.get(i * 3 + k + 1);
    if (e === undefined) continue;
    const at = start[s] + j;
    const lx = EE[e * 10 + 8], ly = EE[e * 10 + 9];
    const tailY = BB[EE[e * 10] * 7 + 3] + BB[EE[e * 10] * 7 + 5] / 2, headY = BB[EE[e * 10 + 1] * 7 + 3] + BB[EE[e * 10 + 1] * 7 + 5] / 2;
    const below = tailY > headY || (tailY === headY && k > 0);
    const n = seen.get(below) || 0;
    seen.set(below, n + 1);
    const t = document.createElementNS(SVGNS, "text");
    t.setAttribute("class", "elabel");
    t.setAttribute("x", lx);
    const tb = EE[e * 10] * 7, tailTop = BB[tb + 3], tailBottom = BB[tb + 3] + BB[tb + 5];
    const near = lx - 60 < BB[tb + 2] + boxW[EE[e * 10]];       // the label would reach over the tail's box
    t.setAttribute("y", below ? Math.max(ly + 20, near ? tailBottom + 15 : 0) + n * 16
                              : Math.min(ly - 9, near ? tailTop - 6 : Infinity) - n * 16);
    const local_ = "\u00D7 " + paren(short(state.cLocal[at]));
    const contrib = gradHidden(c) ? "?" : short(state.cProd[at]);
    t.textContent = local_ + " \u2192 " + contrib;
    gLabels.append(t);
  }
}

/* ------------------------------------------------------------ the chain rule in words */

const OUTN = shown[OUT];
function paren(t) { return /^-/.test(t) ? "(" + t + ")" : t; }
function dOf(a, b) { return "d" + a + "/d" + b; }
function nameOf(i) { const t = shown[i]; return KIND[i] === "const" ? paren(t) : t; }

/** The textbook local derivative of node i with respect to operand k, with the names filled in. */
function textbookRule(i, k) {
  const op = OP[i], ch = CH[i];
  const forms = D.tb[op];
  if (op === "**" && k === 0 && KIND[ch[1]] === "const") {
    const c = initial[ch[1]], x = nameOf(ch[0]), c1 = c - 1;
    if (c1 === 0) return num(c);
    if (c1 === 1) return num(c) + "\u00B7" + x;
    if (c1 === 2) return num(c) + "\u00B7" + x + "\u00B2";
    return paren(num(c)) + "\u00B7" + x + "^" + paren(num(c1));
  }
  let t = forms ? forms[k] : "?";
  const a = nameOf(ch[0]), b = ch.length > 1 ? nameOf(ch[1]) : "";
  const fill = { a, x: a, b, y: b, out: shown[i] };
  return t.replace(/\{(a|b|x|y|out)\}/g, (_, n) => fill[n]);
}

function fillNames(i, t) {
  const ch = CH[i], a = nameOf(ch[0]), b = ch.length > 1 ? nameOf(ch[1]) : "";
  const fill = { a, x: a, b, y: b, out: shown[i] };
  return t.replace(/\{(a|b|x|y|out)\}/g, (_, n) => fill[n]);
}

function noteFor(i) { return fillNames(i, D.notes[OP[i]]); }

function line(cls, parts) {
  const p = el("p", "line " + cls);
  for (const part of parts) {
    if (typeof part === "string") p.append(document.createTextNode(part));
    else p.append(el("span", part[0], part[1]));
  }
  return p;
}

/** The text of step k: the chain rule as the lecture writes it. */
function stepText(k) {
  const box = el("div");
  const hide = i => gradHidden(i);
  const G_ = (i, v) => (hide(i) ? "?" : short(v));
  if (k === 0) {
    box.append(el("p", "head", "Step 0 of " + NSTEPS + ": before the backward pass"));
    box.append(el("p", "muted", "No gradient yet. Step forward (\u2192) to seed the output."));
    return box;
  }
  box.append(el("p", "head", "Step " + k + " of " + NSTEPS + (k === 1 ? ": the seed" : ": " + shown[STEPS[k - 2][0]] + " = " + texts[STEPS[k - 2][0]][0])));
  if (k === 1) {
    box.append(line("chain", [["grad", dOf(OUTN, OUTN) + " = " + G_(OUT, 1)], "  (the output " + OUTN + " = " + short(state.data[OUT]) + ", with respect to itself)"]));
    box.append(el("p", "muted", "Then each operation, the last computed first, passes its gradient to its operands: upstream \u00D7 local derivative (the chain rule)."));
  } else {
    const s = k - 2;
    const [i, cs] = STEPS[s];
    const name = shown[i];
    const up = dOf(OUTN, name);
    box.append(line("up", [["lbl", "upstream "], ["grad", up + " = " + G_(i, state.up[s])], i === OUT ? "  (the seed)" : ""]));
    if (!cs.length) box.append(el("p", "muted", "Its operands are numbers: no gradient to pass on."));
    let starred = false;
    for (let j = 0; j < cs.length; j++) {
      const [c, kk, use, uses] = cs[j];
      const at = start[s] + j;
      const child = shown[c];
      const note = D.notes[OP[i]] ? "*" : "";
      if (note) starred = true;
      const loc = dOf(name, child);
      const tb = textbookRule(i, kk), lv = short(state.cLocal[at]);
      box.append(line("local", [["lbl", "local    "], ["rule", loc + " = " + (tb === lv ? lv : tb + note + " = " + lv)]]));
      const lhs = dOf(OUTN, child);
      const prod = hide(c) ? "?" : short(state.cProd[at]);
      const upv = hide(i) ? "?" : short(state.up[s]);
      const chain = up + " \u00B7 " + loc + " = " + paren(upv) + " \u00B7 " + paren(short(state.cLocal[at])) + " = " + prod;
      if (uses > 1) {
        const tag = "  (use " + use + " of " + uses + " of " + child + ")";
        if (use === 1) box.append(line("chain", [["who", lhs], " = " + chain, tag]));
        else {
          box.append(line("chain", [["who", lhs], " += " + chain, tag]));
          box.append(line("sum", [["sum", "running sum: " + lhs + " = " + (hide(c) ? "?" : short(state.cBefore[at])) + " + " + paren(prod) + " = " + G_(c, state.cAfter[at])]]));
        }
      } else {
        box.append(line("chain", [["who", lhs], " = " + chain]));
      }
    }
    if (starred) box.append(el("p", "foot muted", "* " + noteFor(i)));
  }
  if (k === NSTEPS) {
    if (D.skipped) box.append(el("p", "muted", D.skipped));
    const parts = LEAVES.map(([name, i]) => name + " = " + G_(i, state.acc[i]));
    box.append(el("p", "line leaves", "gradients of the leaves: " + (parts.length ? parts.join(", ") : "none (the program has no leaves)")));
  }
  return box;
}

/* ------------------------------------------------------------ stepping */

let playing = null;

function step(k, smooth) {
  k = Math.max(0, Math.min(NSTEPS, Math.trunc(Number(k)) || 0));
  K = k;
  draw(smooth === undefined ? false : smooth);
  return changedBy(k).map(i => "n" + i);
}

function play() {
  if (playing) { stop(); return; }
  if (K >= NSTEPS) step(0, true);
  playing = setInterval(() => { if (K >= NSTEPS) stop(); else step(K + 1, true); }, 900);
  $("play").textContent = "\u275A\u275A pause";
  $("play").setAttribute("aria-label", "pause");
}

function stop() {
  clearInterval(playing);
  playing = null;
  $("play").textContent = "\u25B6\uFE0E play";
  $("play").setAttribute("aria-label", "play");
}

/* ------------------------------------------------------------ inspect */

let inspected = null;

function inspect(i) {
  inspected = i;
  const body = $("inspect-body");
  body.className = "";
  if (i === null || i === undefined) return;
  const rows = [];
  const add = (k, v, cls) => rows.push([k, v, cls]);
  add("node", shown[i] + "  (id n" + i + ")");
  add("kind", KIND[i] === "op" ? (i === OUT ? "the output" : "computed") : KIND[i] === "input" ? "input (NAME=VALUE)" : KIND[i] === "leaf" ? "leaf with a default" : "number");
  if (OP[i]) add("op", texts[i] ? shown[i] + " = " + texts[i][0] : OP[i]);
  const pos = D.pos[i];
  if (pos) {
    const ln = D.source.split("\n")[pos[0] - 1] || "";
    add("source", (D.filename ? D.filename + ":" : "") + pos[0] + ":" + pos[1], "");
    add("", { line: ln, col: pos[1], len: pos[2] }, "src");
  }
  if (state) {
    add("data", full(state.data[i]));
    if (KIND[i] !== "const") {
      const g = gradsAt(K)[i];
      add("grad", gradHidden(i) ? "? (quiz)" : Number.isNaN(g) ? "not yet (step " + K + " of " + NSTEPS + ")" : full(g));
    }
  }
  const tbl = el("table", "kv");
  for (const [k, v, cls] of rows) {
    const tr = el("tr");
    tr.append(el("th", "", k));
    const td = el("td", cls);
    if (cls === "src") {
      const chars = Array.from(v.line);
      td.append(document.createTextNode(chars.slice(0, v.col - 1).join("")),
        el("mark", "", chars.slice(v.col - 1, v.col - 1 + v.len).join("")),
        document.createTextNode(chars.slice(v.col - 1 + v.len).join("")));
    } else td.textContent = v;
    tr.append(td);
    tbl.append(tr);
  }
  body.replaceChildren(tbl);
  if (OP[i] && texts[i] && state) {
    const ul = el("ul", "locals");
    CH[i].forEach((c, k) => {
      if (KIND[c] === "const") return;       // a number's gradient is never needed
      ul.append(el("li", "", dOf(shown[i], shown[c]) + " = " + textbookRule(i, k) + " = " + short(local(i, k, state.data))));
    });
    if (ul.childNodes.length) { body.append(el("p", "sub", "local derivatives:")); body.append(ul); }
    if (D.notes[OP[i]]) body.append(el("p", "sub", noteFor(i)));
  }
  if (LEAVES.some(([, j]) => j === i)) {
    body.append(el("p", "sub", "a leaf: drag its number on the graph, or change it under Leaves."));
  }
}

/* ------------------------------------------------------------ poke */

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const controls = new Map();      // leaf index -> {input, slider, note}

function recompute() {
  const r = compute(values);
  for (const b of svgRoot.querySelectorAll(".bad")) b.classList.remove("bad");
  if (r.error) {
    error = r;
    $("error-text").textContent = r.error;
    $("error").hidden = false;
    svgRoot.classList.add("stale");
    const where = $("n" + r.node + "op") || $("n" + r.node);
    if (where) where.classList.add("bad");
    $("heading").textContent = D.outName + " is not defined at these values";
    $("heading").classList.add("stale");
    for (const { input } of controls.values()) input.removeAttribute("aria-invalid");
    return;
  }
  error = null;
  state = r.state;
  $("error").hidden = true;
  $("heading").classList.remove("stale");
  svgRoot.classList.remove("stale");
  draw();
}

function setLeaf(i, v, fromSlider) {
  values[i] = v;
  const c = controls.get(i);
  if (c) {
    c.input.value = full(v);
    c.note.textContent = "";
    c.input.removeAttribute("aria-invalid");
    if (!fromSlider) fitSlider(c.slider, v, false);
  }
}

function fitSlider(slider, v, reset) {
  let lo = Number(slider.min), hi = Number(slider.max);
  if (reset || !(v >= lo && v <= hi)) {
    const span = 2 * Math.max(1, Math.abs(v));
    lo = v - span; hi = v + span;
    slider.min = String(lo); slider.max = String(hi); slider.step = String((hi - lo) / 400);
  }
  slider.value = String(v);
}

const LEAF_ROWS = 40;             // past this many leaves, a filter and the first 40 that match

function buildLeaves() {
  const list = $("leaf-list");
  if (!LEAVES.length) { list.append(el("p", "muted", "The program has no leaves.")); return; }
  if (LEAVES.length <= LEAF_ROWS) { for (const [name, i] of LEAVES) list.append(leafRow(name, i)); return; }
  const filter = el("input");
  Object.assign(filter, { type: "text", id: "leaf-filter", placeholder: "find a leaf by name", spellcheck: false });
  filter.setAttribute("aria-label", "find a leaf by name");
  const rows = el("div");
  const more = el("p", "muted");
  const show = () => {
    const q = filter.value.trim();
    const hits = LEAVES.filter(([name]) => !q || name.includes(q));
    controls.clear();
    rows.replaceChildren(...hits.slice(0, LEAF_ROWS).map(([name, i]) => leafRow(name, i)));
    more.textContent = hits.length > LEAF_ROWS ? (hits.length - LEAF_ROWS) + " more of " + LEAVES.length + " leaves: type part of a name" : "";
  };
  filter.addEventListener("input", show);
  list.append(filter, rows, more);
  show();
}

function leafRow(name, i) {
  {
    const row = el("div", "leaf " + KIND[i]);
    const id = "leaf-" + i;
    const label = el("label", "lname", name);
    label.htmlFor = id;
    const input = el("input");
    Object.assign(input, { id, type: "text", inputMode: "decimal", value: full(values[i]), size: 10, spellcheck: false });
    input.setAttribute("aria-label", name + " (a leaf's value)");
    const slider = el("input");
    Object.assign(slider, { type: "range" });
    slider.setAttribute("aria-label", name + " slider");
    fitSlider(slider, values[i], true);
    const note = el("span", "note");
    note.setAttribute("aria-live", "polite");
    input.addEventListener("input", () => {
      const t = input.value.trim();
      if (!NUMBER.test(t) || !Number.isFinite(Number(t))) {
        input.setAttribute("aria-invalid", "true");
        note.textContent = "`" + t + "` is not a number (write numbers such as 2, -3, 0.5 or 1e-3)";
        return;
      }
      values[i] = Number(t);
      note.textContent = "";
      input.removeAttribute("aria-invalid");
      fitSlider(slider, values[i], false);
      recompute();
    });
    slider.addEventListener("input", () => { setLeaf(i, Number(slider.value), true); recompute(); });
    row.append(label, input, slider, note);
    controls.set(i, { input, slider, note });
    return row;
  }
}

function set(name, value) {
  const i = LEAF.get(String(name));
  if (i === undefined) {
    const known = LEAVES.map(([n]) => "`" + n + "`");
    return { error: "error: `" + name + "` is not a leaf of the program" + (known.length ? "\n  = note: the program's leaves are " + words(known) : "") };
  }
  const v = typeof value === "string" && NUMBER.test(value.trim()) ? Number(value) : value;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    return { error: "error: `" + name + "=" + value + "`: `" + value + "` is not a number (write numbers such as 2, -3, 0.5 or 1e-3)" };
  }
  setLeaf(i, v, false);
  recompute();
  return result();
}

function words(items) {
  if (items.length <= 1) return items.join("");
  return items.slice(0, -1).join(", ") + " and " + items[items.length - 1];
}

/* ------------------------------------------------------------ nudge */

let toastTimer = null;
function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
}

function nudge(sign) {
  const out = $("nudge-out");
  if (quiz) { out.textContent = "The nudge is off during the quiz: it moves the leaves by their grads, which would give the answers away."; return; }
  const t = $("h").value.trim();
  if (!NUMBER.test(t)) { out.textContent = "h must be a number, such as 0.01"; return; }
  if (error || !state) { out.textContent = "Fix the error first: the gradient is not defined here."; return; }
  const h = Number(t);
  const before = state.data[OUT];
  let sum = 0;
  const moves = LEAVES.map(([, i]) => { const g = state.acc[i]; sum += g * g; return [i, values[i] + sign * h * g]; });
  const predicted = before + sign * h * sum;
  for (const [i, v] of moves) setLeaf(i, v, false);
  recompute();
  out.className = "";
  out.replaceChildren();
  const name = D.outName;
  const verb = sign > 0 ? "+" : "\u2212";
  out.append(el("p", "", "Every leaf moved by " + verb + "h\u00B7grad with h = " + short(h) + "."));
  if (error) {
    out.append(el("p", "bad", "At the moved point the program is not defined (see the error above)."));
    out.dataset.before = full(before); out.dataset.predicted = full(predicted); out.dataset.after = "";
    toast("At the moved point " + name + " is not defined.");
    return;
  }
  const after = state.data[OUT];
  const tbl = el("table", "kv");
  for (const [k, v, id] of [[name + " before", before, "nudge-before"], [name + " after", after, "nudge-after"],
                            ["predicted " + name + " " + (sign > 0 ? "+" : "\u2212") + " h\u00B7\u03A3grad\u00B2", predicted, "nudge-predicted"],
                            ["after \u2212 predicted", after - predicted, "nudge-gap"]]) {
    const tr = el("tr");
    tr.append(el("th", "", k));
    const td = el("td", "", short(v));
    td.id = id; td.title = full(v);
    tr.append(td);
    tbl.append(tr);
  }
  out.append(tbl);
  const rise = sign > 0 ? after > before : after < before;
  out.append(el("p", "muted", rise
    ? "The output moved the way the gradient says; the gap to the prediction is second order in h."
    : "The output did not move the way the gradient says: h is too large for the first-order picture."));
  out.dataset.before = full(before); out.dataset.after = full(after); out.dataset.predicted = full(predicted);
  toast(name + ": " + short(before) + " \u2192 " + short(after) + "  (predicted " + short(predicted) + ")");
}

/* ------------------------------------------------------------ quiz */

function quizShow(i) {
  const body = $("quiz-body");
  if (!quiz) return;
  body.replaceChildren();
  if (i === null || KIND[i] === "const" || !drawnValue.has(i)) {
    body.append(el("p", "muted", "Pick a node (click, or Tab to it and press Enter), type its grad, press Enter."));
  } else {
    const label = el("label", "", "grad of " + shown[i] + " = ");
    const input = el("input");
    Object.assign(input, { type: "text", id: "quiz-answer", inputMode: "decimal", size: 12 });
    label.htmlFor = "quiz-answer";
    const check = el("button", "", "check");
    const reveal = el("button", "small", "show");
    const verdict = el("p", "verdict");
    verdict.setAttribute("aria-live", "polite");
    const answer = () => {
      const t = input.value.trim();
      const truth = state.acc[i];
      if (!NUMBER.test(t)) { verdict.textContent = "Type a number."; return; }
      const v = Number(t);
      if (Math.abs(v - truth) <= 1e-3 * Math.abs(truth) + 1e-9) {
        solved.add(i);
        const g = $("n" + i);
        if (g) g.classList.add("solved");
        verdict.className = "verdict good";
        verdict.textContent = "Right: " + dOf(OUTN, shown[i]) + " = " + short(truth) + ".";
        draw();
      } else {
        verdict.className = "verdict bad";
        verdict.textContent = "Not yet. " + (i === OUT ? dOf(shown[i], shown[i]) + " is..." :
          "Add, over each use of " + shown[i] + ", the user's grad times its local derivative.");
      }
      score();
    };
    input.addEventListener("keydown", e => { if (e.key === "Enter") answer(); });
    check.addEventListener("click", answer);
    reveal.addEventListener("click", () => { input.value = full(state.acc[i]); answer(); });
    body.append(label, input, check, reveal, verdict);
    input.focus();
  }
  const sc = el("p", "score");
  sc.id = "quiz-score";
  body.append(sc);
  score();
}

function score() {
  const sc = $("quiz-score");
  if (sc) sc.textContent = "solved " + solved.size + " of " + drawnValue.size;
}

/* ------------------------------------------------------------ wiring */

function nodeOf(target) {
  const g = target.closest && target.closest("g.v, g.op, g.const, g.stub");
  return g ? parseInt(g.id.slice(1), 10) : null;
}

function isTextField(t) {
  return t && (t.isContentEditable || t.tagName === "TEXTAREA" ||
    (t.tagName === "INPUT" && !["checkbox", "radio", "range", "button", "submit"].includes(t.type)));
}

function showNode(i) {
  inspect(i);
  if (window.matchMedia("(max-width: 900px)").matches) {
    const p = $("panel"), sec = $("inspect");
    p.scrollTop = sec.offsetTop - p.offsetTop - 4;
  }
}

/** A leaf's number, typed where it is drawn: Enter sets it, Escape leaves it. */
function editInPlace(i) {
  const span = dText.get(i);
  if (!span) return;
  showNode(i);
  const r = span.getBoundingClientRect(), c = canvas.getBoundingClientRect();
  const box = el("input");
  Object.assign(box, { type: "text", id: "poke", inputMode: "decimal", value: full(values[i]), spellcheck: false });
  box.setAttribute("aria-label", shown[i] + " (a leaf's value)");
  box.style.left = (r.left - c.left - 4) + "px";
  box.style.top = (r.top - c.top - 5) + "px";
  let done = false;
  const close = apply => {
    if (done) return;
    const t = box.value.trim();
    if (apply && !(NUMBER.test(t) && Number.isFinite(Number(t)))) { box.setAttribute("aria-invalid", "true"); return; }
    done = true;
    box.remove();
    if (apply) { setLeaf(i, Number(t), false); recompute(); }
  };
  box.addEventListener("keydown", e => {
    if (e.key === "Enter") { close(true); e.preventDefault(); }
    else if (e.key === "Escape") { close(false); e.preventDefault(); e.stopPropagation(); }
  });
  box.addEventListener("blur", () => close(false));
  canvas.append(box);
  box.focus();
  box.select();
}

function wire() {
  const user = f => () => { stop(); f(); };
  $("first").addEventListener("click", user(() => step(0, true)));
  $("prev").addEventListener("click", user(() => step(K - 1, true)));
  $("next").addEventListener("click", user(() => step(K + 1, true)));
  $("last").addEventListener("click", user(() => step(NSTEPS, true)));
  $("play").addEventListener("click", play);
  $("reset").addEventListener("click", () => { for (const [, i] of LEAVES) { setLeaf(i, initial[i], false); if (controls.has(i)) fitSlider(controls.get(i).slider, initial[i], true); } recompute(); $("nudge-out").textContent = ""; });
  $("nudge-up").addEventListener("click", () => nudge(1));
  $("nudge-down").addEventListener("click", () => nudge(-1));
  $("quiz-on").addEventListener("change", e => {
    quiz = e.target.checked;
    document.body.classList.toggle("quiz", quiz);
    $("quiz-body").hidden = !quiz;
    $("nudge-up").disabled = $("nudge-down").disabled = quiz;
    if (quiz) { $("nudge-out").textContent = "The nudge is off during the quiz."; quizShow(inspected !== null && drawnValue.has(inspected) ? inspected : null); }
    draw();
  });
  svgRoot.addEventListener("mouseover", e => { const i = nodeOf(e.target); if (i !== null) inspect(i); });
  svgRoot.addEventListener("focusin", e => { const i = nodeOf(e.target); if (i !== null) inspect(i); });
  svgRoot.addEventListener("keydown", e => {
    if (e.key === "Enter") { const i = nodeOf(e.target); if (i !== null) { showNode(i); if (quiz) quizShow(i); e.preventDefault(); } }
  });
  document.addEventListener("keydown", e => {
    const t = e.target;
    if (e.key === "Escape" && isTextField(t)) { t.blur(); $("stepper").focus(); e.preventDefault(); return; }
    if (isTextField(t) || t.tagName === "SELECT" || e.altKey || e.ctrlKey || e.metaKey) return;
    if (t.type === "range" && (e.key === "ArrowRight" || e.key === "ArrowLeft")) return;
    if (e.key === "ArrowRight") { stop(); step(K + 1, true); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); step(K - 1, true); e.preventDefault(); }
    else if (e.key === "Home") { stop(); step(0, true); e.preventDefault(); }
    else if (e.key === "End") { stop(); step(NSTEPS, true); e.preventDefault(); }
    else if ((e.key === " " || e.key === "p") && t.tagName !== "BUTTON") { play(); e.preventDefault(); }
    else if (e.key === "+" || e.key === "=") zoomAt(1.25);
    else if (e.key === "-") zoomAt(1 / 1.25);
    else if (e.key === "0") frame([0, 0, G.W, G.H], Math.max(minScale(), fitScale([0, 0, G.W, G.H], 8)), true);
    else if (e.key === ".") follow(K, true);
  });
  $("zoom-in").addEventListener("click", () => zoomAt(1.25));
  $("zoom-out").addEventListener("click", () => zoomAt(1 / 1.25));
  $("zoom-fit").addEventListener("click", () => frame([0, 0, G.W, G.H], Math.max(minScale(), fitScale([0, 0, G.W, G.H], 8)), true));
  $("zoom-step").addEventListener("click", () => { if (K === 0) initialView(); else follow(K, true); });
  canvas.addEventListener("wheel", e => {
    e.preventDefault();
    const r = svgRoot.getBoundingClientRect();
    if (e.ctrlKey) zoomAt(e.deltaY < 0 ? 1.1 : 1 / 1.1, e.clientX - r.left, e.clientY - r.top);
    else setCam(cam.x + e.deltaX / cam.s, cam.y + e.deltaY / cam.s, cam.s);
  }, { passive: false });
  // drag the background to move; drag a leaf's number to change it (a click inspects)
  let drag = null;
  const touches = new Map();     // two fingers: pinch to zoom about their middle
  let pinch = null;
  const pinchState = () => {
    const [a, b] = [...touches.values()], r = svgRoot.getBoundingClientRect();
    return { d: Math.hypot(a.x - b.x, a.y - b.y), x: (a.x + b.x) / 2 - r.left, y: (a.y + b.y) / 2 - r.top };
  };
  svgRoot.addEventListener("pointerdown", e => {
    touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (touches.size === 2) { drag = null; pinch = pinchState(); return; }
    if (e.button !== 0) return;
    const i = nodeOf(e.target);
    const leaf = i !== null && LEAVES.some(([, j]) => j === i) && e.target.closest && e.target.closest("text.num, tspan.d") &&
      e.target.closest("text.num").querySelector("tspan.d");
    drag = { x: e.clientX, y: e.clientY, cx: cam.x, cy: cam.y, moved: false, node: i, leaf: leaf ? i : null, v0: leaf ? values[i] : 0 };
    try { svgRoot.setPointerCapture(e.pointerId); } catch (err) { /* a pointer the browser no longer tracks */ }
  });
  svgRoot.addEventListener("pointermove", e => {
    if (touches.has(e.pointerId)) touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pinch && touches.size === 2) {
      const now = pinchState();
      if (pinch.d > 0 && now.d > 0) zoomAt(now.d / pinch.d, now.x, now.y);
      setCam(cam.x - (now.x - pinch.x) / cam.s, cam.y - (now.y - pinch.y) / cam.s, cam.s);
      pinch = now;
      return;
    }
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    if (drag.leaf !== null) {
      const unit = Math.pow(10, Math.round(Math.log10(Math.max(Math.abs(drag.v0), 0.1))) - 2);
      const digits = Math.max(0, -Math.round(Math.log10(unit)));
      const v = Number((drag.v0 + Math.round(dx) * unit).toFixed(Math.min(20, digits)));
      setLeaf(drag.leaf, v, false);
      recompute();
    } else {
      setCam(drag.cx - dx / cam.s, drag.cy - dy / cam.s, cam.s);
    }
  });
  const up = () => {
    if (drag && !drag.moved && drag.leaf !== null) editInPlace(drag.leaf);
    else if (drag && !drag.moved && drag.node !== null) { showNode(drag.node); if (quiz) quizShow(drag.node); }
    drag = null;
  };
  const lift = e => { touches.delete(e.pointerId); if (touches.size < 2) pinch = null; };
  svgRoot.addEventListener("pointerup", e => { lift(e); up(); });
  svgRoot.addEventListener("pointercancel", e => { lift(e); drag = null; });
  mini.addEventListener("click", e => {
    const k = Math.min(mini.width / G.W, mini.height / G.H);
    const r = mini.getBoundingClientRect();
    const [cw, ch] = viewSize();
    setCam((e.clientX - r.left) / k - cw / cam.s / 2, (e.clientY - r.top) / k - ch / cam.s / 2, cam.s);
  });
  let resizeT = null;
  window.addEventListener("resize", () => { clearTimeout(resizeT); resizeT = setTimeout(render, 80); });
}

(function measure() {
  const t = document.createElementNS(SVGNS, "text");
  t.setAttribute("class", "num");
  t.innerHTML = '<tspan class="d">0000000000</tspan>';
  gNodes.append(t);
  const w = t.getComputedTextLength();
  if (w > 0) CH_W = Math.max(7.9, w / 10);
  t.remove();
})();
if (D.graphName) { $("more").textContent = D.graphName; $("more").hidden = false; }
buildLeaves();
wire();
initialView();
recompute();
if (!state && !error) throw new Error("gradcli: the page could not compute");


window.gradcli = Object.freeze({
  result,
  set,
  steps: () => NSTEPS,
  step: k => step(k, false),
});
})();
