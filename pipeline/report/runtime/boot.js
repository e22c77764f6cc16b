/*
 * natatlas report runtime (runs in the reader's browser; inlined into every page, a few
 * KB). Charts are static SVG drawn once at build time; this adds a light layer on top:
 * hovering a mark (a bar, a heat-map cell, a point) shows the values vega wrote into its
 * aria-label as a tooltip; tables with class "sortable" sort by a column when its header
 * is clicked; a shortened hash copies its full value when clicked. Without scripts the
 * page reads the same. Nothing here fetches anything.
 */
(function () {
  'use strict';

  var tip = null;

  function showTip(text, event) {
    if (!tip) {
      tip = document.createElement('div');
      tip.className = 'vg-tip';
      tip.setAttribute('role', 'tooltip');
      document.body.appendChild(tip);
    }
    tip.textContent = '';
    // vega writes "field: value; field: value".
    text.split('; ').forEach(function (part) {
      var row = document.createElement('div');
      var colon = part.indexOf(': ');
      if (colon > 0) {
        var name = document.createElement('b');
        name.textContent = part.slice(0, colon + 1) + ' ';
        row.appendChild(name);
        row.appendChild(document.createTextNode(part.slice(colon + 2)));
      } else {
        row.textContent = part;
      }
      tip.appendChild(row);
    });
    tip.classList.add('on');
    var x = event.clientX + 14;
    var y = event.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth - 8) x = Math.max(8, event.clientX - tip.offsetWidth - 14);
    if (y + tip.offsetHeight > window.innerHeight - 8) y = Math.max(8, event.clientY - tip.offsetHeight - 14);
    tip.style.left = x + window.scrollX + 'px';
    tip.style.top = y + window.scrollY + 'px';
  }

  function hideTip() {
    if (tip) tip.classList.remove('on');
  }

  // A mark item with its own values: not an axis or legend, and not a line, whose one
  // label describes only its first point.
  function markOf(el, root) {
    for (var n = el; n && n !== root; n = n.parentNode) {
      if (n.getAttribute && n.getAttribute('role') === 'graphics-symbol') {
        var kind = n.getAttribute('aria-roledescription') || '';
        if (!/ mark$/.test(kind) || /^(line|area|trail) mark$/.test(kind)) return null;
        return n.getAttribute('aria-label') ? n : null;
      }
    }
    return null;
  }

  function tooltips(figure) {
    var svg = figure.querySelector('.chart-static svg');
    if (!svg) return;
    svg.addEventListener('mousemove', function (event) {
      var mark = markOf(event.target, svg);
      if (mark) showTip(mark.getAttribute('aria-label'), event);
      else hideTip();
    });
    svg.addEventListener('mouseleave', hideTip);
    figure.setAttribute('data-live', 'true');
  }

  // A cell sorts by its data-v (numbers, formatted values), else by its text; a dash
  // (no value) sorts last either way.
  function cellValue(td, numeric) {
    var v = td.getAttribute('data-v');
    if (v === null) {
      if (td.querySelector('.na')) return null;
      v = td.textContent.trim();
    }
    return numeric ? Number(v) : v.toLowerCase();
  }

  function sortable(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    var ths = Array.prototype.slice.call(head.cells);
    ths.forEach(function (th, col) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.setAttribute('aria-sort', 'none');
      button.addEventListener('click', function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        ths.forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', dir);
        var numeric = th.classList.contains('num');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
          return { row: row, i: i, v: row.cells[col] ? cellValue(row.cells[col], numeric) : null };
        });
        rows.sort(function (a, b) {
          if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
          var c = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
          return (dir === 'ascending' ? c : -c) || a.i - b.i;
        });
        rows.forEach(function (r) { body.appendChild(r.row); });
      });
    });
  }

  // Shortened values (hashes) carry the full text in data-full: a click copies it.
  function copyable(el) {
    el.setAttribute('role', 'button');
    el.setAttribute('tabindex', '0');
    function copy() {
      var full = el.getAttribute('data-full');
      var done = function () {
        el.classList.add('copied');
        setTimeout(function () { el.classList.remove('copied'); }, 1200);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(full).then(done, function () {});
    }
    el.addEventListener('click', copy);
    el.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); copy(); } });
  }

  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), sortable);
  Array.prototype.forEach.call(document.querySelectorAll('[data-full]'), copyable);
  Array.prototype.forEach.call(document.querySelectorAll('figure.chart'), tooltips);
  document.documentElement.setAttribute('data-charts', 'live');
})();
