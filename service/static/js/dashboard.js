/*
 * rectiflow office dashboard: the round's figures as ECharts charts.
 *
 * The server counts everything (the same counts as GET /api/v1/stats, within the viewer's
 * scope) and embeds them in #rf-dashboard-config together with the translated labels; this
 * script only draws. Charts are re-laid out on resize so the board works from 1366 px down.
 */
(function () {
  'use strict';

  var configEl = document.getElementById('rf-dashboard-config');
  var root = document.getElementById('rf-dashboard');
  if (!configEl || !root || !window.echarts) {
    return;
  }
  var cfg = JSON.parse(configEl.textContent);
  var data = cfg.data;
  var M = cfg.messages;
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif';
  var STATUS_COLORS = {
    self_check: '#94a3b8', rectifying: '#3b82f6', returned: '#f97316', filed: '#a855f7', closed: '#16a34a'
  };
  var WARNING_COLORS = { none: '#cbd5e1', green: '#16a34a', yellow: '#eab308', red: '#dc2626' };
  var charts = {};

  function empty(el) {
    el.classList.add('rf-chart-empty');
    el.textContent = M.no_data;
  }

  function init(id, option, height) {
    var el = document.getElementById(id);
    if (!el) {
      return null;
    }
    if (!option) {
      empty(el);
      return null;
    }
    if (height) {
      el.style.height = height + 'px';
    }
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    option.textStyle = { fontFamily: FONT };
    if (option.tooltip) {
      // drawn on the canvas: ECharts' HTML tooltips are markup full of style attributes, which the
      // pages' Content-Security-Policy does not allow
      option.tooltip.renderMode = 'richText';
    }
    option.animation = false;  // the board is read at a glance; also keeps screenshots stable
    // ECharts names the chart for screen readers with its series and figures (the locale follows
    // <html lang>); the same figures are in the table under each chart ("View as table")
    option.aria = Object.assign({ enabled: true, decal: { show: false } }, option.aria);
    chart.setOption(option);
    charts[id] = chart;
    return chart;
  }

  function progressOption() {
    var p = data.progress;
    if (!p.units.length) {
      return null;
    }
    var described = p.units.length === 1 ? M.progress_description.one : M.progress_description.other;
    return {
      // ECharts' own description of a horizontal stacked bar reads its coordinates, not the counts
      aria: { label: { description: described.replace('{n}', p.units.length) } },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 8, right: 24, top: 32, bottom: 28, containLabel: true },
      xAxis: { type: 'value', minInterval: 1, name: M.cases, nameLocation: 'middle', nameGap: 24 },
      yAxis: { type: 'category', data: p.units, inverse: true, axisLabel: { width: 150, overflow: 'truncate' } },
      series: p.statuses.map(function (status) {
        return {
          name: M.status[status] || status, type: 'bar', stack: 'cases', barMaxWidth: 18,
          itemStyle: { color: STATUS_COLORS[status] }, data: p.series[status]
        };
      })
    };
  }

  function warningOption() {
    var w = data.warnings.counts;
    var total = Object.keys(w).reduce(function (sum, k) { return sum + w[k]; }, 0);
    if (!total) {
      return null;
    }
    return {
      tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
      legend: { bottom: 0 },
      series: [{
        type: 'pie', radius: ['40%', '68%'], center: ['50%', '45%'],
        label: { formatter: '{b}\n{c}' },
        data: ['red', 'yellow', 'green', 'none'].map(function (k) {
          return { name: M.warning[k], value: w[k], itemStyle: { color: WARNING_COLORS[k] } };
        }).filter(function (d) { return d.value > 0; })
      }]
    };
  }

  function industryOption() {
    var rows = data.industries;
    if (!rows.length) {
      return null;
    }
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: rows.map(function (r) { return r.industry; }),
               axisLabel: { interval: 0, rotate: rows.length > 6 ? 30 : 0 } },
      yAxis: [
        { type: 'value', name: M.units, minInterval: 1 },
        { type: 'value', name: M.completion_rate, min: 0, max: 100, axisLabel: { formatter: '{value}%' } }
      ],
      series: [
        { name: M.units, type: 'bar', barMaxWidth: 28, itemStyle: { color: '#3b82f6' },
          data: rows.map(function (r) { return r.units; }) },
        { name: M.completion_rate, type: 'line', yAxisIndex: 1, itemStyle: { color: '#16a34a' },
          data: rows.map(function (r) { return r.rate; }) }
      ]
    };
  }

  function trendOption() {
    var rows = data.trend;
    if (!rows.length) {
      return null;
    }
    var keys = ['common_problems', 'problems_found', 'measures', 'institutions'];
    var colors = ['#dc2626', '#f97316', '#3b82f6', '#16a34a'];
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: rows.map(function (r) { return r.round; }),
               axisLabel: { interval: 0, width: 120, overflow: 'truncate' } },
      yAxis: { type: 'value', minInterval: 1 },
      series: keys.map(function (k, i) {
        return { name: M.figure[k], type: 'bar', barMaxWidth: 24, itemStyle: { color: colors[i] },
                 data: rows.map(function (r) { return r[k]; }) };
      })
    };
  }

  function satisfactionOption() {
    var rows = (data.satisfaction || { units: [] }).units;
    if (!rows.length) {
      return null;
    }
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: 'value', min: 0, max: 5 },
      yAxis: { type: 'category', inverse: true, data: rows.map(function (r) { return r.unit; }),
               axisLabel: { width: 110, overflow: 'truncate' } },
      series: [{ name: M.satisfaction, type: 'bar', barMaxWidth: 18, itemStyle: { color: '#16a34a' },
                 data: rows.map(function (r) { return r.average; }) }]
    };
  }

  function petitionsOption() {
    var p = data.petitions || { periods: [] };
    if (!p.periods.length) {
      return null;
    }
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: p.periods },
      yAxis: { type: 'value', minInterval: 1, name: M.petitions },
      series: [{ name: M.petitions, type: 'line', itemStyle: { color: '#b3261e' }, data: p.totals }]
    };
  }

  function recurrenceOption() {
    var rows = data.recurrence.by_industry;
    if (!rows.length) {
      return null;
    }
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: rows.map(function (r) { return r.name; }),
               axisLabel: { interval: 0, rotate: rows.length > 6 ? 30 : 0 } },
      yAxis: { type: 'value', name: M.recurrence_rate, min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      series: [{ name: M.recurrence_rate, type: 'bar', barMaxWidth: 28, itemStyle: { color: '#b45309' },
                 data: rows.map(function (r) { return Math.round(r.rate * 1000) / 10; }) }]
    };
  }

  init('rf-chart-progress', progressOption(), Math.max(240, data.progress.units.length * 22 + 60));
  init('rf-chart-satisfaction', satisfactionOption(),
       Math.max(200, ((data.satisfaction || { units: [] }).units.length) * 26 + 60));
  init('rf-chart-petitions', petitionsOption());
  init('rf-chart-warnings', warningOption());
  init('rf-chart-industry', industryOption());
  init('rf-chart-trend', trendOption());
  init('rf-chart-recurrence', recurrenceOption());

  var pending = null;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      Object.keys(charts).forEach(function (id) { charts[id].resize(); });
    }, 100);
  });

  // the round filter submits itself: no button press needed, still a plain GET form without JS
  var roundSelect = document.getElementById('rf-round');
  if (roundSelect && roundSelect.form) {
    roundSelect.addEventListener('change', function () { roundSelect.form.submit(); });
  }

  window.rfDashboard = { charts: charts, data: data };
  root.dataset.ready = 'true';
})();

/*
 * The list table's quick filter: hides rows that do not contain the typed text (the round filter
 * and the Excel download are server-side; this only narrows what is on screen).
 */
(function () {
  'use strict';
  var input = document.getElementById('rf-list-filter');
  var table = document.getElementById('rf-list-table');
  var count = document.getElementById('rf-list-count');
  var configEl = document.getElementById('rf-dashboard-config');
  if (!input || !table) {
    return;
  }
  var rows_ = configEl ? JSON.parse(configEl.textContent).messages.rows : null;
  function rowsLabel(n) {  // the count's text in both forms, {one, other}
    return rows_ ? (n === 1 ? rows_.one : rows_.other).replace('{n}', n) : String(n);
  }
  var original = count ? count.textContent : '';
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var download = document.getElementById('rf-xlsx');
  input.addEventListener('input', function () {
    var needle = input.value.trim().toLowerCase();
    if (download && download.dataset.baseHref) {
      // the download holds what the table shows: the same search, done again on the server
      var words = input.value.trim();
      var base = download.dataset.baseHref;
      download.href = words ? base + (base.indexOf('?') === -1 ? '?' : '&') + 'q=' + encodeURIComponent(words) : base;
    }
    var shown = 0;
    rows.forEach(function (row) {
      var hit = !needle || row.textContent.toLowerCase().indexOf(needle) !== -1;
      row.hidden = !hit;
      if (hit) { shown += 1; }
    });
    if (count) {
      count.textContent = needle ? rowsLabel(shown) : original;
    }
  });
})();
