// Building the page from elements and text nodes only (never HTML strings): every text is a text node, so names and notes as entered
// (in any script) are shown as they are and never interpreted.

/** h("tag.class#id", { attr: value, onclick: fn }, ...children) */
export function h(spec, attrs = {}, ...children) {
  const m = /^([a-z0-9]+)((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement(m ? m[1] : "div");
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === ".") el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "value") el.value = value;
    else if (name === "checked") el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export function nextId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form control. `control` gets an id; the label points to it. */
export function field(label, control, hint) {
  const id = control.id || nextId();
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div.field", {}, h("label", { for: id }, label), control, hint ? h("p.hint", { id: hintId }, hint) : null);
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([v, label]) => h("option", { value: v, ...(v === value ? { selected: true } : {}) }, label)),
  );
}

/** A short status message for screen readers and sighted users alike. */
export function notice(kind, text, extra) {
  return h(`div.notice.${kind}`, { role: kind === "error" ? "alert" : "status" }, h("p", {}, text), extra ?? null);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** svg("rect", { x: 0, … }, ...children): an SVG element (attributes only; text children as text nodes). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}
