/* archiver in-browser search: plain script, no modules, no fetch, so it works from file://.
 * Index files under search/ are scripts that call window.__archiverSearch.add(name, data).
 * Data from the index and the query is only ever put into the page with textContent. */
(function () {
  "use strict";
  var loaded = {}, waiting = {};
  window.__archiverSearch = {
    add: function (name, data) {
      loaded[name] = data;
      var callbacks = waiting[name] || [];
      delete waiting[name];
      callbacks.forEach(function (cb) { cb(); });
    }
  };
  var app = document.getElementById("search-app");
  if (!app) { return; }
  var base = app.getAttribute("data-index") || "search/";
  var root = app.getAttribute("data-root") || "";
  var input = document.getElementById("search-q");
  var sortSelect = document.getElementById("search-sort");
  var statusBox = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var filtersBox = document.getElementById("search-filters");
  var moreButton = document.getElementById("search-more");
  var PAGE = 10, WEIGHTS = [8, 3, 1];
  var MARKS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;
  var TERMINAL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", CONT = "ghijklmnopqrstuvwxyz0123456789+/";
  var BITS = TERMINAL + CONT, CODE = {};
  var i;
  for (i = 0; i < 32; i++) { CODE[TERMINAL.charAt(i)] = i; CODE[CONT.charAt(i)] = 32 + i; }
  var meta = null, stopSet = {}, state = { q: "", tag: "", source: "", year: "", sort: "relevance" };
  var current = null, shown = 0, timer = 0, generation = 0, tagsWanted = false;

  function load(name, cb) {
    if (loaded[name]) { cb(); return; }
    if (waiting[name]) { waiting[name].push(cb); return; }
    waiting[name] = [cb];
    var s = document.createElement("script");
    s.src = base + name + ".js";
    s.async = true;
    s.onerror = function () { say("The search index file " + name + ".js could not be loaded."); };
    document.head.appendChild(s);
  }
  function loadAll(names, cb) {
    var unique = names.filter(function (n, k) { return names.indexOf(n) === k; });
    var left = unique.length;
    if (!left) { cb(); return; }
    unique.forEach(function (n) { load(n, function () { left -= 1; if (!left) { cb(); } }); });
  }
  function say(text) { statusBox.textContent = text; }

  /* Must match archiver/search/tokenize.py: fold, then words. */
  function fold(text) { return text.toLowerCase().normalize("NFKD").replace(MARKS, ""); }
  function wordsOf(text) {
    var f = fold(text).replace(/['\u2019]s\b/g, "").replace(/['\u2019]/g, "");
    var found = f.match(/[\p{L}\p{N}]{2,}|\p{Nd}/gu) || [];
    return found.map(function (w) { return w.slice(0, 40); });
  }
  function decode(s) {
    var out = [], k, b;
    if (!s) { return out; }
    if (s.charAt(0) === "!") {
      for (k = 1; k < s.length; k++) {
        var v = CODE[s.charAt(k)];
        for (b = 0; b < 6; b++) { if ((v >> b) & 1) { out.push((k - 1) * 6 + b); } }
      }
      return out;
    }
    var value = 0, prev = -1;
    for (k = 0; k < s.length; k++) {
      var c = CODE[s.charAt(k)];
      if (c >= 32) { value = value * 32 + (c - 32); } else { prev += value * 32 + c; out.push(prev); value = 0; }
    }
    return out;
  }
  function shardOf(word) {
    var lo = 0, hi = meta.shards.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (meta.shards[mid] <= word) { lo = mid; } else { hi = mid - 1; }
    }
    return "terms-" + ("00" + lo).slice(-3);
  }
  function sortedTerms(name) {
    var data = loaded[name];
    if (!data.__sorted) {
      Object.defineProperty(data, "__sorted", { value: Object.keys(data).sort(), enumerable: false });
    }
    return data.__sorted;
  }
  function oneEdit(a, b) {
    var la = a.length, lb = b.length;
    if (Math.abs(la - lb) > 1 || a === b) { return false; }
    var x = 0, y = 0, edits = 0;
    while (x < la && y < lb) {
      if (a.charAt(x) === b.charAt(y)) { x++; y++; continue; }
      edits += 1;
      if (edits > 1) { return false; }
      if (la > lb) { x++; } else if (lb > la) { y++; } else if (a.charAt(x + 1) === b.charAt(y) && a.charAt(x) === b.charAt(y + 1)) { x += 2; y += 2; } else { x++; y++; }
    }
    return edits + (la - x) + (lb - y) <= 1;
  }

  function parse(q) {
    var phrases = [];
    var rest = q.replace(/"([^"]*)("|$)/g, function (all, p) {
      var w = wordsOf(p);
      if (w.length > 1) { phrases.push(w); }
      return " " + p + " ";
    });
    var words = [];
    wordsOf(rest).forEach(function (w) { if (words.indexOf(w) < 0) { words.push(w); } });
    var typing = /[\p{L}\p{N}]$/u.test(q) && (q.split('"').length % 2 === 1);
    var useful = words.filter(function (w) { return !stopSet[w]; });
    var onlyStop = useful.length === 0 && words.length > 0;
    var last = wordsOf(q).pop();
    return { words: onlyStop ? words : useful, phrases: phrases, onlyStop: onlyStop,
             prefix: typing && last && !stopSet[last] ? last : (onlyStop && typing ? last : "") };
  }
  function shardsFor(p) {
    if (p.onlyStop) { return ["stop-000"]; }
    var names = p.words.map(shardOf);
    if (p.prefix) {
      var idx = parseInt(shardOf(p.prefix).slice(6), 10);
      if (idx + 1 < meta.shards.length && meta.shards[idx + 1].indexOf(p.prefix) === 0) {
        names.push("terms-" + ("00" + (idx + 1)).slice(-3));
      }
    }
    return names;
  }
  function variants(w) {
    var out = [w + "s", w + "es"];
    if (/ies$/.test(w)) { out.push(w.slice(0, -3) + "y"); }
    if (/y$/.test(w)) { out.push(w.slice(0, -1) + "ies"); }
    if (/es$/.test(w)) { out.push(w.slice(0, -2)); }
    if (/s$/.test(w)) { out.push(w.slice(0, -1)); }
    return out;
  }
  function candidates(word, p) {
    var shard = p.onlyStop ? "stop-000" : shardOf(word), data = loaded[shard], found = [];
    function take(term, weight) {
      var d = data[term];
      if (d) { found.push({ term: term, lists: d, weight: weight }); return true; }
      return false;
    }
    var exact = take(word, 1);
    variants(word).forEach(function (v) { take(v, 0.9); });
    if (word === p.prefix && word.length >= 2) {
      var names = [shard], next = "terms-" + ("00" + (parseInt(shard.slice(6), 10) + 1)).slice(-3);
      if (loaded[next] && !p.onlyStop) { names.push(next); }
      var extra = [];
      names.forEach(function (n) {
        var terms = sortedTerms(n), lo = 0, hi = terms.length;
        while (lo < hi) { var mid = (lo + hi) >> 1; if (terms[mid] < word) { lo = mid + 1; } else { hi = mid; } }
        for (var k = lo; k < terms.length && terms[k].indexOf(word) === 0; k++) {
          if (terms[k] !== word) { extra.push({ term: terms[k], lists: loaded[n][terms[k]], weight: 0.6 }); }
        }
      });
      extra.sort(function (a, b) { return size(b.lists) - size(a.lists); });
      found = found.concat(extra.slice(0, 40));
    }
    if (!found.length && !exact && word.length >= 5) {
      sortedTerms(shard).forEach(function (t) { if (oneEdit(word, t)) { take(t, 0.6); } });
    }
    return found;
  }
  function size(lists) { return lists[0].length + lists[1].length + lists[2].length; }
  function scoreWord(word, p, matched) {
    var docs = {};
    candidates(word, p).forEach(function (c) {
      var lists = c.lists.map(decode), df = lists[0].length + lists[1].length + lists[2].length;
      var idf = Math.log(1 + meta.n / Math.max(df, 1));
      matched[c.term] = true;
      for (var k = 0; k < 3; k++) {
        lists[k].forEach(function (id) {
          var s = WEIGHTS[k] * c.weight * idf, old = docs[id];
          if (!old) { docs[id] = { s: s, t: k === 0 }; } else {
            if (s > old.s) { old.s = s; }
            if (k === 0) { old.t = true; }
          }
        });
      }
    });
    return docs;
  }
  function run(p) {
    var matched = {}, maps = p.words.map(function (w) { return scoreWord(w, p, matched); });
    maps.sort(function (a, b) { return Object.keys(a).length - Object.keys(b).length; });
    var hits = [];
    if (maps.length) {
      Object.keys(maps[0]).forEach(function (key) {
        var s = 0, title = true;
        for (var k = 0; k < maps.length; k++) {
          var e = maps[k][key];
          if (!e) { return; }
          s += e.s; title = title && e.t;
        }
        hits.push({ id: +key, s: s, t: title });
      });
    }
    return { hits: hits, matched: matched };
  }

  function yearOf(id) {
    for (var k = 0; k < meta.years.length; k++) {
      var y = meta.years[k];
      if (id >= y[1] && id < y[1] + y[2]) { return String(y[0]); }
    }
    return "";
  }
  function sourceOf(id) {
    var c = meta.src.charAt(id);
    return c === "-" ? "" : meta.sources[meta.srcChars.indexOf(c)] || "";
  }
  function tagSet(name) {
    var tags = loaded.tags, k = meta.tags.indexOf(name);
    if (!tags || k < 0) { return null; }
    if (!tags.__sets) { Object.defineProperty(tags, "__sets", { value: {}, enumerable: false }); }
    if (!tags.__sets[name]) {
      var set = {};
      decode(tags.lists[k]).forEach(function (id) { set[id] = true; });
      tags.__sets[name] = set;
    }
    return tags.__sets[name];
  }
  function passes(id, except) {
    if (state.year && except !== "year" && yearOf(id) !== state.year) { return false; }
    if (state.source && except !== "source" && sourceOf(id) !== state.source) { return false; }
    if (state.tag && except !== "tag") {
      var set = tagSet(state.tag);
      if (!set || !set[id]) { return false; }
    }
    return true;
  }

  function search() {
    var mine = ++generation, q = state.q.trim();
    writeUrl();
    if (!q) { clear(); say("Type a word to search the archive."); return; }
    var p = parse(q);
    if (!p.words.length) { clear(); say("No searchable words in “" + q + "”."); return; }
    var needed = shardsFor(p).filter(Boolean);
    if (state.tag || tagsWanted) { needed.push("tags"); }
    loadAll(needed, function () {
      if (mine !== generation) { return; }
      var r = run(p);
      r.p = p;
      r.all = r.hits;
      r.hits = r.hits.filter(function (h) { return passes(h.id, ""); });
      if (state.sort === "date") {
        r.hits.sort(function (a, b) { return a.id - b.id; });
      } else {
        r.hits.sort(function (a, b) { return (b.t - a.t) || (b.s - a.s) || (a.id - b.id); });
      }
      current = r;
      shown = 0;
      clear();
      renderFilters(r);
      showMore(mine, true);
    });
  }
  function clear() { list.textContent = ""; filtersBox.textContent = ""; moreButton.hidden = true; }
  function docShard(id) { return "docs-" + ("00" + Math.floor(id / meta.per)).slice(-3); }
  function docOf(id) { return loaded[docShard(id)].d[id % meta.per]; }
  function showMore(mine, first) {
    var r = current, page = r.hits.slice(shown, shown + PAGE);
    loadAll(page.map(function (h) { return docShard(h.id); }), function () {
      if (mine !== generation) { return; }
      if (first) { page = promote(page, r.p); }
      page.forEach(function (h) { list.appendChild(renderHit(h, r)); });
      shown += page.length;
      moreButton.hidden = shown >= r.hits.length;
      var n = r.hits.length;
      say(n ? (n === 1 ? "1 result" : n + " results") + " for “" + state.q.trim() + "”" : "No results for “" + state.q.trim() + "”.");
    });
  }
  function folded(doc) { return " " + wordsOf(doc[1] + " " + doc[2]).join(" ") + " "; }
  function promote(page, p) {
    var want = p.words.slice().sort().join(" ");
    function rank(h) {
      var doc = docOf(h.id), r = 0;
      if (wordsOf(doc[1]).filter(function (w) { return !stopSet[w]; }).sort().join(" ") === want) { r += 2; }
      var text = folded(doc);
      if (p.phrases.length && p.phrases.every(function (ph) { return text.indexOf(" " + ph.join(" ") + " ") >= 0; })) { r += 1; }
      return r;
    }
    var ranked = page.map(function (h, k) { return { h: h, r: rank(h), k: k }; });
    ranked.sort(function (a, b) { return (b.r - a.r) || (a.k - b.k); });
    return ranked.map(function (x) { return x.h; });
  }
  function marked(parent, text, matched) {
    var re = /[\p{L}\p{N}'\u2019]+/gu, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      var w = wordsOf(m[0])[0];
      if (w && matched[w]) {
        if (m.index > last) { parent.appendChild(document.createTextNode(text.slice(last, m.index))); }
        var mark = document.createElement("mark");
        mark.textContent = m[0];
        parent.appendChild(mark);
        last = m.index + m[0].length;
      }
    }
    if (last < text.length) { parent.appendChild(document.createTextNode(text.slice(last))); }
  }
  function renderHit(h, r) {
    var doc = docOf(h.id), li = document.createElement("li"), a = document.createElement("a");
    var terms = Object.keys(r.matched).sort();
    li.className = "search-result";
    a.href = root + meta.url[0] + encodeURIComponent(doc[0]) + meta.url[1] + "?h=" + encodeURIComponent(terms.slice(0, 20).join(" "));
    a.className = "search-result-link";
    marked(a, doc[1], r.matched);
    var h2 = document.createElement("h2");
    h2.className = "search-result-title";
    h2.appendChild(a);
    li.appendChild(h2);
    var info = document.createElement("p"), bits = [];
    info.className = "search-result-meta";
    if (doc[3]) { bits.push(doc[3]); }
    if (sourceOf(h.id)) { bits.push(sourceOf(h.id)); }
    info.textContent = bits.join(" · ");
    li.appendChild(info);
    if (doc[2]) {
      var ex = document.createElement("p");
      ex.className = "search-result-excerpt";
      marked(ex, doc[2], r.matched);
      li.appendChild(ex);
    }
    return li;
  }

  function counts(r, key, valueOf) {
    var c = {};
    r.all.forEach(function (h) {
      if (!passes(h.id, key)) { return; }
      var vs = valueOf(h.id);
      vs.forEach(function (v) { if (v) { c[v] = (c[v] || 0) + 1; } });
    });
    return Object.keys(c).map(function (k) { return [k, c[k]]; })
      .sort(function (a, b) { return (b[1] - a[1]) || (a[0] < b[0] ? -1 : 1); });
  }
  function renderFilters(r) {
    filtersBox.textContent = "";
    if (!r.all.length) { return; }
    facet("year", "Year", counts(r, "year", function (id) { return [yearOf(id)]; }).sort(function (a, b) { return a[0] < b[0] ? 1 : -1; }));
    facet("source", "Source", counts(r, "source", function (id) { return [sourceOf(id)]; }).slice(0, 12));
    if (loaded.tags) {
      var tagLists = meta.tags.map(function (t) { return [t, tagSet(t)]; });
      facet("tag", "Tag", counts(r, "tag", function (id) {
        return tagLists.filter(function (x) { return x[1][id]; }).map(function (x) { return x[0]; });
      }).slice(0, 15));
    } else {
      var fs = document.createElement("fieldset"), lg = document.createElement("legend"), b = document.createElement("button");
      lg.textContent = "Tag";
      b.type = "button";
      b.className = "search-load-tags";
      b.textContent = "Show tags";
      b.addEventListener("click", function () { tagsWanted = true; search(); });
      fs.appendChild(lg);
      fs.appendChild(b);
      filtersBox.appendChild(fs);
    }
  }
  function facet(key, label, rows) {
    var fs = document.createElement("fieldset"), lg = document.createElement("legend");
    fs.className = "search-facet search-facet-" + key;
    lg.textContent = label;
    fs.appendChild(lg);
    var options = [["", "Any", 0]].concat(rows.map(function (x) { return [x[0], x[0], x[1]]; }));
    if (state[key] && !rows.some(function (x) { return x[0] === state[key]; })) { options.push([state[key], state[key], 0]); }
    options.forEach(function (o) {
      var lab = document.createElement("label"), radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "facet-" + key;
      radio.value = o[0];
      radio.checked = state[key] === o[0];
      radio.addEventListener("change", function () { state[key] = radio.value; search(); });
      lab.appendChild(radio);
      lab.appendChild(document.createTextNode(" " + o[1] + (o[0] ? " (" + o[2] + ")" : "")));
      fs.appendChild(lab);
    });
    filtersBox.appendChild(fs);
  }

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    Object.keys(state).forEach(function (k) { state[k] = params.get(k) || state[k]; });
    if (state.sort !== "date") { state.sort = "relevance"; }
    input.value = state.q;
    sortSelect.value = state.sort;
  }
  function writeUrl() {
    var params = new URLSearchParams();
    Object.keys(state).forEach(function (k) {
      if (state[k] && !(k === "sort" && state[k] === "relevance")) { params.set(k, state[k]); }
    });
    try { window.history.replaceState(null, "", "?" + params.toString()); } catch (e) { /* file:// may refuse */ }
  }
  function links() { return Array.prototype.slice.call(list.querySelectorAll("a.search-result-link")); }
  function move(delta) {
    var all = links(), at = all.indexOf(document.activeElement);
    if (!all.length) { return; }
    var next = at + delta;
    if (next < 0) { input.focus(); return; }
    all[Math.min(next, all.length - 1)].focus();
  }
  app.addEventListener("keydown", function (e) {
    var inInput = e.target === input;
    if (e.key === "ArrowDown" || (!inInput && e.key === "j")) { e.preventDefault(); move(1); } else if (e.key === "ArrowUp" || (!inInput && e.key === "k")) {
      if (!inInput) { e.preventDefault(); move(-1); }
    }
  });
  input.addEventListener("input", function () {
    state.q = input.value;
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 60);
  });
  sortSelect.addEventListener("change", function () { state.sort = sortSelect.value; search(); });
  moreButton.addEventListener("click", function () { showMore(generation, false); });
  app.querySelector("form").addEventListener("submit", function (e) { e.preventDefault(); search(); });
  readUrl();
  say(state.q ? "Loading the search index…" : "Type a word to search the archive.");
  load("meta", function () {
    meta = loaded.meta;
    meta.stop.forEach(function (w) { stopSet[w] = true; });
    if (state.q) { search(); }
  });
}());
