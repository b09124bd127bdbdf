// The saved theme (or the system's) applied before the first paint.
(function () {
  var saved = null;
  try { saved = localStorage.getItem('opsbase.theme'); } catch (e) {}
  var dark = saved ? saved === 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.classList.toggle('dark', dark);
})();
