// The live gradient-flow picture: the SVG drawn in Python, made touchable.
// Click a box to select it (the kernel's view shows its details), hover for its
// source line and statistics, drag to pan, ctrl+wheel or the buttons to zoom.
function render({ model, el }) {
  el.classList.add("zygote-flow-graph");
  el.style.position = "relative";
  const toolbar = document.createElement("div");
  toolbar.style.cssText = "display:flex;gap:4px;margin:2px 0;font:12px sans-serif;align-items:center";
  const frame = document.createElement("div");
  frame.className = "zygote-flow-frame";
  frame.style.cssText = "overflow:auto;max-height:600px;border:1px solid #ddd;cursor:grab;background:#fff";
  const tip = document.createElement("div");
  tip.className = "zygote-flow-tooltip";
  tip.style.cssText = "position:absolute;display:none;white-space:pre;pointer-events:none;z-index:10;" +
    "background:#fffff0;border:1px solid #999;padding:4px 6px;font:12px monospace;max-width:640px;overflow:hidden";
  let zoom = null;
  let natural = [1, 1];
  const button = (text, title, action) => {
    const element = document.createElement("button");
    element.textContent = text;
    element.title = title;
    element.addEventListener("click", action);
    toolbar.appendChild(element);
  };
  // Said in words, since a scrollbar may be hidden: part of the graph lies outside the frame.
  const more = document.createElement("span");
  more.className = "zygote-flow-more";
  more.style.cssText = "color:#b15928;font-weight:bold";
  const applyZoom = () => {
    const svg = frame.querySelector("svg");
    if (!svg) return;
    svg.style.width = `${natural[0] * zoom}px`;
    svg.style.height = `${natural[1] * zoom}px`;
    more.textContent = natural[0] * zoom > frame.clientWidth + 1 ? "⇆ more to the right: drag, or fit" : "";
  };
  // Fit the width, but never so small that a projected label cannot be read: wider graphs scroll.
  const fitZoom = () => Math.min(1, Math.max(0.8, (frame.clientWidth - 4) / natural[0]));
  button("−", "zoom out", () => { zoom = Math.max(0.1, zoom / 1.25); applyZoom(); });
  button("+", "zoom in", () => { zoom = Math.min(4, zoom * 1.25); applyZoom(); });
  button("fit", "fit the width", () => { zoom = Math.min(1, (frame.clientWidth - 4) / natural[0]); applyZoom(); });
  const hint = document.createElement("span");
  hint.textContent = "click a box to select it · hover for details · drag to pan · ctrl+wheel to zoom";
  hint.style.color = "#666";
  toolbar.append(hint, more);

  const markSelected = () => {
    const key = model.get("selected");
    for (const node of frame.querySelectorAll("g.zygote-node")) {
      const ring = node.querySelector(".zygote-ring");
      if (ring) ring.setAttribute("visibility", node.dataset.key === key ? "visible" : "hidden");
      node.classList.toggle("zygote-selected", node.dataset.key === key);
    }
  };
  const draw = () => {
    frame.innerHTML = model.get("svg");
    const svg = frame.querySelector("svg");
    if (!svg) return;
    const size = [parseFloat(svg.getAttribute("width")), parseFloat(svg.getAttribute("height"))];
    const reshaped = size[0] !== natural[0] || size[1] !== natural[1];
    natural = size;
    for (const node of svg.querySelectorAll("g.zygote-node")) {
      const title = node.querySelector("title");
      if (title) { node.dataset.tip = title.textContent; title.remove(); }
    }
    if (zoom === null || reshaped) zoom = fitZoom();
    applyZoom();
    markSelected();
  };

  let pressed = null;
  frame.addEventListener("mousedown", (event) => {
    pressed = { x: event.clientX, y: event.clientY, left: frame.scrollLeft, top: frame.scrollTop, moved: false };
    frame.style.cursor = "grabbing";
  });
  window.addEventListener("mousemove", (event) => {
    if (!pressed) return;
    const dx = event.clientX - pressed.x, dy = event.clientY - pressed.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) pressed.moved = true;
    if (pressed.moved) { frame.scrollLeft = pressed.left - dx; frame.scrollTop = pressed.top - dy; }
  });
  window.addEventListener("mouseup", (event) => {
    if (!pressed) return;
    const click = !pressed.moved;
    pressed = null;
    frame.style.cursor = "grab";
    const node = click && event.target.closest ? event.target.closest("g.zygote-node") : null;
    if (node && frame.contains(node)) {
      model.set("selected", node.dataset.key);
      model.save_changes();
      markSelected();
    }
  });
  frame.addEventListener("wheel", (event) => {
    if (!event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    zoom = Math.min(4, Math.max(0.1, zoom * (event.deltaY < 0 ? 1.1 : 1 / 1.1)));
    applyZoom();
  }, { passive: false });
  frame.addEventListener("mouseover", (event) => {
    const node = event.target.closest ? event.target.closest("g.zygote-node") : null;
    if (!node || !node.dataset.tip) { tip.style.display = "none"; return; }
    tip.textContent = node.dataset.tip;
    tip.style.display = "block";
  });
  frame.addEventListener("mousemove", (event) => {
    const box = el.getBoundingClientRect();
    tip.style.left = `${event.clientX - box.left + 14}px`;
    tip.style.top = `${event.clientY - box.top + 14}px`;
  });
  frame.addEventListener("mouseleave", () => { tip.style.display = "none"; });

  model.on("change:svg", draw);
  model.on("change:selected", markSelected);
  el.append(toolbar, frame, tip);
  draw();
  requestAnimationFrame(() => { zoom = fitZoom(); applyZoom(); });
}
export default { render };
