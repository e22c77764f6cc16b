/*
 * natatlas report runtime (runs in the reader's browser; inlined into every page).
 * Each chart ships as a static SVG plus its compiled Vega spec; with scripts on, the
 * SVG is swapped for a live Vega view with tooltips. Vega runs with its AST
 * interpreter (vega-interpreter), so the page's Content-Security-Policy needs no
 * 'unsafe-eval'. Tables with class "sortable" sort by a column when its header is
 * clicked. Nothing here fetches anything.
 */
(function () {
  'use strict';

  var tip = null;

  function tooltip(handler, event, item, value) {
    if (!tip) {
      tip = document.createElement('div');
      tip.className = 'vg-tip';
      tip.setAttribute('role', 'tooltip');
      document.body.appendChild(tip);
    }
    if (value === null || value === undefined || value === '') {
      tip.classList.remove('on');
      return;
    }
    tip.textContent = '';
    if (typeof value === 'object') {
      Object.keys(value).forEach(function (key) {
        var row = document.createElement('div');
        var name = document.createElement('b');
        name.textContent = key + ': ';
        row.appendChild(name);
        row.appendChild(document.createTextNode(String(value[key])));
        tip.appendChild(row);
      });
    } else {
      tip.textContent = String(value);
    }
    tip.classList.add('on');
    var x = event.clientX + 14;
    var y = event.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth - 8) x = Math.max(8, event.clientX - tip.offsetWidth - 14);
    if (y + tip.offsetHeight > window.innerHeight - 8) y = Math.max(8, event.clientY - tip.offsetHeight - 14);
    tip.style.left = x + window.scrollX + 'px';
    tip.style.top = y + window.scrollY + 'px';
  }

  function liveChart(figure) {
    var specEl = figure.querySelector('script.vega-spec');
    var still = figure.querySelector('.chart-static');
    if (!specEl || !still) return Promise.resolve();
    var el = document.createElement('div');
    el.className = 'chart-live';
    el.hidden = true;
    still.parentNode.insertBefore(el, still);
    var view;
    try {
      var spec = JSON.parse(specEl.textContent);
      view = new vega.View(vega.parse(spec, null, { ast: true }), {
        expr: vegaInterpreter.expressionInterpreter,
        renderer: 'svg',
        hover: true,
        container: el,
      });
      view.tooltip(tooltip);
    } catch (e) {
      el.remove();
      console.error('natatlas: chart ' + figure.id + ' could not start; its static image stays. ' + e);
      return Promise.resolve();
    }
    return view.runAsync().then(function () {
      still.remove();
      el.hidden = false;
      figure.setAttribute('data-live', 'true');
    }, function (e) {
      el.remove();
      console.error('natatlas: chart ' + figure.id + ' could not render; its static image stays. ' + e);
    });
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

  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), sortable);
  var figures = Array.prototype.slice.call(document.querySelectorAll('figure.chart'));
  if (typeof vega === 'undefined' || typeof vegaInterpreter === 'undefined') {
    console.error('natatlas: the Vega runtime is missing; charts stay static');
    return;
  }
  // One chart at a time keeps a long page responsive while the views start.
  figures.reduce(function (done, figure) {
    return done.then(function () { return liveChart(figure); });
  }, Promise.resolve()).then(function () {
    document.documentElement.setAttribute('data-charts', 'live');
  });
})();
