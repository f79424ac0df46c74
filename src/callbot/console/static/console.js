// callbot console: small helpers shared by the pages (charts, the upload progress).
function callbotChart(id, option) {
  const el = document.getElementById(id);
  if (!el || typeof echarts === "undefined") return null;
  const chart = echarts.getInstanceByDom(el) || echarts.init(el);
  chart.setOption(option, true);
  window.addEventListener("resize", () => chart.resize());
  return chart;
}
// The upload's own progress (bytes sent) on a form posted by htmx; the import's progress comes after.
function callbotUploadProgress(formId, barId) {
  const form = document.getElementById(formId), bar = document.getElementById(barId);
  if (!form || !bar) return;
  form.addEventListener("htmx:xhr:progress", (e) => {
    if (e.detail.lengthComputable) { bar.hidden = false; bar.value = Math.round(100 * e.detail.loaded / e.detail.total); }
  });
}
