/* Marks the words given in ?h=... (set by the search page) on an article page.
 * Text nodes are split and wrapped in <mark>; nothing from the URL is parsed as HTML. */
(function () {
  "use strict";
  var MARKS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;
  function fold(text) { return text.toLowerCase().normalize("NFKD").replace(MARKS, ""); }
  function wordOf(token) {
    var f = fold(token).replace(/['\u2019]s$/, "").replace(/['\u2019]/g, "");
    var m = f.match(/[\p{L}\p{N}]+/u);
    return m ? m[0].slice(0, 40) : "";
  }
  var wanted = {}, any = false;
  var raw = new URLSearchParams(window.location.search).get("h") || "";
  raw.split(/\s+/).slice(0, 40).forEach(function (t) {
    var w = wordOf(t);
    if (w.length > 1) { wanted[w] = true; any = true; }
  });
  if (!any) { return; }
  function run() {
    var scope = document.querySelector("[data-search-highlight]") || document.querySelector("article") || document.querySelector("main");
    if (!scope) { return; }
    var walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        var p = node.parentNode && node.parentNode.nodeName;
        return (p === "SCRIPT" || p === "STYLE" || p === "MARK" || p === "TEXTAREA") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      }
    });
    var nodes = [], n, first = null;
    while ((n = walker.nextNode())) { nodes.push(n); }
    nodes.forEach(function (node) {
      var text = node.nodeValue, re = /[\p{L}\p{N}'\u2019]+/gu, m, last = 0, frag = null;
      while ((m = re.exec(text)) !== null) {
        if (!wanted[wordOf(m[0])]) { continue; }
        frag = frag || document.createDocumentFragment();
        if (m.index > last) { frag.appendChild(document.createTextNode(text.slice(last, m.index))); }
        var mark = document.createElement("mark");
        mark.className = "search-hit";
        mark.textContent = m[0];
        frag.appendChild(mark);
        first = first || mark;
        last = m.index + m[0].length;
      }
      if (!frag) { return; }
      if (last < text.length) { frag.appendChild(document.createTextNode(text.slice(last))); }
      node.parentNode.replaceChild(frag, node);
    });
    if (first && first.scrollIntoView) { first.scrollIntoView({ block: "center" }); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); } else { run(); }
}());
