// Dashboard charts (Chart.js): the data comes from the page's #chart-data JSON block.
(function () {
  if (!window.Chart) return;
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var green = "#0b6e4f", light = "#7cc4a4";
  var palette = ["#0b6e4f", "#e0a100", "#c0392b", "#2c7be5", "#7b5ea7", "#6c757d", "#17a2b8", "#fd7e14", "#20c997", "#6610f2", "#e83e8c", "#343a40"];
  function make(id, config) { var el = document.getElementById(id); if (el) new Chart(el, config); }
  // a fresh options object per chart: Chart.js writes its scales into the object it is given
  function opts(extra) { return Object.assign({ responsive: true, maintainAspectRatio: false, plugins: { legend: { position: "bottom" } } }, extra || {}); }
  make("chart-days", { type: "line", options: opts(), data: { labels: data.per_day.labels, datasets: [
    { label: "Recibidos", data: data.per_day.inbound, borderColor: green, backgroundColor: green },
    { label: "Enviados", data: data.per_day.outbound, borderColor: light, backgroundColor: light } ] } });
  make("chart-hours", { type: "bar", options: opts(), data: { labels: data.per_hour.labels, datasets: [
    { label: "Recibidos", data: data.per_hour.values, backgroundColor: green } ] } });
  make("chart-answered", { type: "doughnut", options: opts(), data: { labels: data.answered.labels, datasets: [
    { data: data.answered.values, backgroundColor: palette } ] } });
  make("chart-intents", { type: "bar", options: opts({ indexAxis: "y", scales: { y: { ticks: { autoSkip: false } } } }), data: { labels: data.intents.labels, datasets: [
    { label: "Mensajes", data: data.intents.values, backgroundColor: green } ] } });
  make("chart-kinds", { type: "pie", options: opts(), data: { labels: data.kinds.labels, datasets: [
    { data: data.kinds.values, backgroundColor: palette } ] } });
})();
