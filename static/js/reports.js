// The reports page: draws the charts from the JSON the server put in #report-charts (no inline scripts, so a
// strict Content-Security-Policy holds) and submits the unit/year picker when a choice changes.
(function () {
  "use strict";

  var COLOURS = ["#0b3d91", "#9aa5b1"]; // report year, previous year (the PDF charts use the same pair)

  // Long axis labels (unit names, ladder levels) wrap onto lines of about this many characters; Chinese has no
  // spaces, so it is cut at the width.
  var LABEL_WIDTH = 26;

  function wrap(label) {
    if (label.length <= LABEL_WIDTH) { return label; }
    var lines = [];
    var line = "";
    label.split(" ").forEach(function (word) {
      while (word.length > LABEL_WIDTH) {
        if (line) { lines.push(line); line = ""; }
        lines.push(word.slice(0, LABEL_WIDTH));
        word = word.slice(LABEL_WIDTH);
      }
      if (!word) { return; }
      if (line && (line + " " + word).length > LABEL_WIDTH) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) { lines.push(line); }
    return lines;
  }

  function config(chart) {
    var horizontal = chart.kind === "hbar";
    var line = chart.kind === "line";
    // Counts are whole numbers; a chart of rates says how many decimals its axis needs ("precision").
    var precision = chart.precision || 0;
    return {
      type: line ? "line" : "bar",
      data: {
        labels: chart.kind === "line" ? chart.labels : chart.labels.map(wrap),
        datasets: chart.series.map(function (s, i) {
          return {
            label: s.name,
            data: s.values,
            backgroundColor: COLOURS[i % COLOURS.length],
            borderColor: COLOURS[i % COLOURS.length],
            borderWidth: line ? 2 : 0,
            tension: 0.2,
            pointRadius: line ? 3 : 0
          };
        })
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: horizontal ? precision : 0 } },
          y: { beginAtZero: true, ticks: { precision: horizontal ? 0 : precision, autoSkip: !horizontal } }
        }
      }
    };
  }

  function draw() {
    var source = document.getElementById("report-charts");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    data.charts.forEach(function (chart) {
      var canvas = document.getElementById("chart-" + chart.key);
      if (!canvas) { return; }
      var box = canvas.parentElement;
      // Horizontal bars need room per label; the rest share one height (CSSOM, so the CSP allows it).
      box.style.position = "relative";
      var lines = chart.labels.reduce(function (n, label) { return n + Math.ceil(label.length / LABEL_WIDTH); }, 0);
      box.style.height = chart.kind === "hbar" ? Math.max(220, lines * 18 + chart.labels.length * 12 + 70) + "px" : "300px";
      new window.Chart(canvas, config(chart));
    });
  }

  function autosubmit() {
    document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // After the password: the export the user asked for goes ahead (the server marked its button or link, once).
  function resume() {
    var button = document.querySelector("[data-resume]");
    if (button) { button.removeAttribute("data-resume"); button.click(); }
  }

  // The background export the user just asked for downloads by itself once its row says it is ready.
  function autodownload(root) {
    var link = root.querySelector ? root.querySelector("a[data-autodownload]") : null;
    if (!link && root.matches && root.matches("a[data-autodownload]")) { link = root; }
    if (link) { link.removeAttribute("data-autodownload"); window.location.assign(link.href); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    autosubmit();
    resume();
    autodownload(document);
  });
  document.addEventListener("htmx:load", function (event) { autodownload(event.target); });
})();
