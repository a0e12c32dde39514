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

const $ = id => document.getElementById(id);
const svgRoot = $("graph");
const boxOf = new Map();        // node index -> its value box (g)
const dText = new Map(), gText = new Map();
for (const g of svgRoot.querySelectorAll("g.v")) {
  const i = parseInt(g.id.slice(1), 10);
  boxOf.set(i, g);
  dText.set(i, g.querySelector("tspan.d"));
  gText.set(i, g.querySelector("tspan.g"));
}
const lastD = new Map(), lastG = new Map();
const CHARS = Number(svgRoot.dataset.chars);

/** A number into its cell: squeezed when it is longer than the cell was made for. */
function put(el, t) {
  el.textContent = t;
  if (t.length > CHARS) {
    el.setAttribute("textLength", String(CHARS * 7.3));
    el.setAttribute("lengthAdjust", "spacingAndGlyphs");
  } else if (el.hasAttribute("textLength")) el.removeAttribute("textLength");
}
let hot = [];

function result() {
  if (error) return { error: error.error };
  const grad = {};
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

function draw() {
  if (!state) return;
  const g = gradsAt(K);
  for (const [i, el] of dText) {
    const t = short(state.data[i]);
    if (lastD.get(i) !== t) { put(el, t); lastD.set(i, t); }
  }
  for (const [i, el] of gText) {
    let t = Number.isNaN(g[i]) ? "" : short(g[i]);
    if (quiz && !solved.has(i)) t = "?";
    if (lastG.get(i) !== t) { put(el, t); lastG.set(i, t); }
  }
  for (const el of hot) el.classList.remove("hot", "changed", "seed");
  hot = [];
  const mark = (el, cls) => { if (el) { el.classList.add(cls); hot.push(el); } };
  if (K === 1) mark(boxOf.get(OUT), "seed");
  if (K >= 2) {
    const [i, cs] = STEPS[K - 2];
    mark($("n" + i + "op"), "hot");
    mark($("e" + i), "hot");
    mark(boxOf.get(i), "seed");
    for (const [c, k] of cs) mark($("e" + i + "_" + k), "hot");
  }
  for (const c of changedBy(K)) mark(boxOf.get(c), "changed");
  $("heading").textContent = D.outName + " = " + short(state.data[OUT]);
  $("counter").textContent = "step " + K + " of " + NSTEPS;
  $("steptext").replaceChildren(stepText(K));
  $("first").disabled = $("prev").disabled = K === 0;
  $("next").disabled = $("last").disabled = K === NSTEPS;
  if (inspected !== null) inspect(inspected);
  const focus = K >= 2 ? $("n" + STEPS[K - 2][0] + "op") : K === 1 ? boxOf.get(OUT) : null;
  if (focus && playing) focus.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const shown = D.shown;

/** The text of step k, as `gradcli explain` prints it. */
function stepText(k) {
  const box = el("div");
  const outName = shown[OUT];
  if (k === 0) {
    box.append(el("p", "muted", "Before the backward pass: no gradient yet. Step forward (\u2192) to seed the output."));
    return box;
  }
  if (k === 1) {
    box.append(el("p", "line", "backward from the output " + outName + " = " + short(state.data[OUT]) + ": " +
      outName + ".grad = d" + outName + "/d" + outName + " = 1; then each operation, the last computed first, " +
      "adds grad * local derivative to each operand's grad"));
  } else {
    const s = k - 2;
    const [i, cs] = STEPS[s];
    const name = shown[i];
    const [expr, rules] = texts[i];
    const g = short(state.up[s]);
    box.append(el("p", "line head", (s + 1) + ". " + name + " = " + expr));
    box.append(el("p", "line up", "    " + name + ".grad = " + g + (i === OUT ? " (the seed)" : "")));
    if (!cs.length) box.append(el("p", "line muted", "    (its operands are numbers: no gradient to pass on)"));
    for (let j = 0; j < cs.length; j++) {
      const [c, kk, use, uses] = cs[j];
      const at = start[s] + j;
      const child = shown[c];
      const loc = short(state.cLocal[at]), prod = short(state.cProd[at]);
      let total;
      if (uses > 1 && use > 1) total = child + ".grad = " + short(state.cBefore[at]) + " + " + prod + " = " + short(state.cAfter[at]) + "  (use " + use + " of " + uses + ")";
      else if (uses > 1) total = child + ".grad = " + short(state.cAfter[at]) + "  (use 1 of " + uses + ")";
      else total = child + ".grad = " + short(state.cAfter[at]);
      const line = el("p", "line contrib");
      for (const [cls, t] of [["who", child], ["rule", rules[kk] + " = " + loc], ["", g + " * " + loc + " = " + prod], ["sum", total]]) {
        line.append(el("span", cls, t), document.createTextNode("  "));
      }
      box.append(line);
    }
  }
  if (k === NSTEPS) {
    if (D.skipped) box.append(el("p", "line muted", D.skipped));
    const parts = LEAVES.map(([name, i]) => name + " = " + short(state.acc[i]));
    box.append(el("p", "line leaves", "gradients of the leaves: " + (parts.length ? parts.join(", ") : "none (the program has no leaves)")));
  }
  return box;
}

/* ------------------------------------------------------------ stepping */

let playing = null;

function step(k) {
  k = Math.max(0, Math.min(NSTEPS, Math.trunc(Number(k)) || 0));
  K = k;
  draw();
  return changedBy(k).map(i => "n" + i);
}

function play() {
  if (playing) { stop(); return; }
  if (K >= NSTEPS) step(0);
  playing = setInterval(() => { if (K >= NSTEPS) stop(); else step(K + 1); }, 700);
  $("play").textContent = "\u275A\u275A pause";
  $("play").setAttribute("aria-label", "pause");
  draw();
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
  add("node", shown[i] + "  (n" + i + ")");
  add("kind", KIND[i] === "op" ? (i === OUT ? "the output" : "computed") : KIND[i] === "input" ? "input (NAME=VALUE)" : KIND[i] === "leaf" ? "leaf with a default" : "number");
  if (OP[i]) add("op", texts[i] ? shown[i] + " = " + texts[i][0] : OP[i]);
  const pos = D.pos[i];
  if (pos) {
    const line = D.source.split("\n")[pos[0] - 1] || "";
    add("source", (D.filename ? D.filename + ":" : "") + pos[0] + ":" + pos[1], "");
    add("", { line, col: pos[1], len: pos[2] }, "src");
  }
  if (state) {
    add("data", full(state.data[i]));
    if (KIND[i] !== "const") {
      const g = gradsAt(K)[i];
      add("grad", quiz && !solved.has(i) ? "? (quiz)" : Number.isNaN(g) ? "not yet (step " + K + " of " + NSTEPS + ")" : full(g));
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
    body.append(el("p", "sub", "local derivatives, one per operand:"));
    const ul = el("ul", "locals");
    CH[i].forEach((c, k) => {
      ul.append(el("li", "", texts[i][1][k] + " = " + short(local(i, k, state.data)) + (KIND[c] === "const" ? "  (a number: its gradient is not needed)" : "")));
    });
    body.append(ul);
  }
  if (LEAF.has(shown[i]) || LEAVES.some(([, j]) => j === i)) {
    body.append(el("p", "sub", "a leaf: change its value under Leaves."));
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
    const where = $("n" + r.node + "op") || boxOf.get(r.node);
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

function buildLeaves() {
  const list = $("leaf-list");
  if (!LEAVES.length) { list.append(el("p", "muted", "The program has no leaves.")); return; }
  for (const [name, i] of LEAVES) {
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
    list.append(row);
    controls.set(i, { input, slider, note });
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

function nudge(sign) {
  const out = $("nudge-out");
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
}

/* ------------------------------------------------------------ quiz */

function quizShow(i) {
  const body = $("quiz-body");
  if (!quiz) return;
  body.replaceChildren();
  if (i === null || KIND[i] === "const" || !boxOf.has(i)) {
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
        boxOf.get(i).classList.add("solved");
        verdict.className = "verdict good";
        verdict.textContent = "Right: " + shown[i] + ".grad = " + short(truth) + ".";
        draw();
      } else {
        verdict.className = "verdict bad";
        verdict.textContent = "Not yet. " + (i === OUT ? "d" + shown[i] + "/d" + shown[i] + " is..." :
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
  if (sc) sc.textContent = "solved " + solved.size + " of " + boxOf.size;
}

/* ------------------------------------------------------------ zoom */

const canvas = $("canvas");
const W = Number(svgRoot.getAttribute("width")), H = Number(svgRoot.getAttribute("height"));
let scale = 1;

function zoom(s) {
  scale = Math.max(0.05, Math.min(3, s));
  svgRoot.setAttribute("width", String(Math.round(W * scale)));
  svgRoot.setAttribute("height", String(Math.round(H * scale)));
}

function fit() {
  // As large as fits (up to 1.6x), never so small that the numbers cannot be read.
  const cw = canvas.clientWidth - 16, ch = canvas.clientHeight - 50;
  let s = cw / W;
  if (ch > 100 && H * s > ch) s = ch / H;
  zoom(Math.min(1.6, Math.max(0.8, s)));
}

/* ------------------------------------------------------------ wiring */

function nodeOf(target) {
  const g = target.closest && target.closest("g.v, g.op, g.const, g.stub");
  return g ? parseInt(g.id.slice(1), 10) : null;
}

function wire() {
  $("first").addEventListener("click", () => { stop(); step(0); });
  $("prev").addEventListener("click", () => { stop(); step(K - 1); });
  $("next").addEventListener("click", () => { stop(); step(K + 1); });
  $("last").addEventListener("click", () => { stop(); step(NSTEPS); });
  $("play").addEventListener("click", play);
  $("reset").addEventListener("click", () => { for (const [, i] of LEAVES) { setLeaf(i, initial[i], false); fitSlider(controls.get(i).slider, initial[i], true); } recompute(); $("nudge-out").textContent = ""; });
  $("nudge-up").addEventListener("click", () => nudge(1));
  $("nudge-down").addEventListener("click", () => nudge(-1));
  $("quiz-on").addEventListener("change", e => {
    quiz = e.target.checked;
    document.body.classList.toggle("quiz", quiz);
    $("quiz-body").hidden = !quiz;
    if (quiz) quizShow(inspected !== null && boxOf.has(inspected) ? inspected : null);
    draw();
  });
  svgRoot.addEventListener("mouseover", e => { const i = nodeOf(e.target); if (i !== null) inspect(i); });
  svgRoot.addEventListener("focusin", e => { const i = nodeOf(e.target); if (i !== null) inspect(i); });
  svgRoot.addEventListener("click", e => { const i = nodeOf(e.target); if (i !== null) { inspect(i); if (quiz) quizShow(i); } });
  svgRoot.addEventListener("keydown", e => {
    if (e.key === "Enter") { const i = nodeOf(e.target); if (i !== null) { inspect(i); if (quiz) quizShow(i); e.preventDefault(); } }
  });
  document.addEventListener("keydown", e => {
    const tag = e.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "ArrowRight") { stop(); step(K + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); step(K - 1); e.preventDefault(); }
    else if (e.key === "Home") { stop(); step(0); e.preventDefault(); }
    else if (e.key === "End") { stop(); step(NSTEPS); e.preventDefault(); }
    else if ((e.key === " " || e.key === "p") && tag !== "BUTTON") { play(); e.preventDefault(); }
    else if (e.key === "+" || e.key === "=") zoom(scale * 1.25);
    else if (e.key === "-") zoom(scale / 1.25);
    else if (e.key === "0") fit();
  });
  $("zoom-in").addEventListener("click", () => zoom(scale * 1.25));
  $("zoom-out").addEventListener("click", () => zoom(scale / 1.25));
  $("zoom-fit").addEventListener("click", fit);
  canvas.addEventListener("wheel", e => {
    if (!e.ctrlKey) return;
    e.preventDefault();
    zoom(scale * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });
}

buildLeaves();
wire();
fit();
recompute();
if (!state && !error) throw new Error("gradcli: the page could not compute");

window.gradcli = Object.freeze({
  result,
  set,
  steps: () => NSTEPS,
  step,
});
})();
