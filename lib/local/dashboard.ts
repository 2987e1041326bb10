/** The internal dashboard: type a user id (or a new listener's context) and see the real shelves. */
export const DASHBOARD_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>home-shelves dashboard</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#111}form{margin-bottom:16px}input,select{font-size:14px;padding:4px}
.shelf{margin:18px 0}.items{display:flex;gap:10px;overflow-x:auto}.card{min-width:170px;max-width:170px;border:1px solid #ddd;border-radius:8px;padding:8px;font-size:12px}
.card b{display:block;font-size:13px;margin-bottom:4px}.new{color:#fff;background:#16a34a;border-radius:4px;padding:0 4px;margin-left:4px}.meta{color:#666}.fallback{color:#dc2626}</style></head>
<body><h1>home-shelves: what a user sees</h1>
<form id="f">user id <input id="u" value="u-0000001" size="14"> or a new listener:
country <input id="c" value="SE" size="3"> device <select id="d"><option>mobile</option><option>desktop</option><option>tv</option><option>speaker</option></select>
picks <input id="g" value="jazz,news" size="14"> <button>show</button></form>
<div id="out"></div>
<script>
const out = document.getElementById('out');
document.getElementById('f').onsubmit = async (e) => {
  e.preventDefault();
  const u = document.getElementById('u').value.trim();
  const res = u ? await fetch('/v1/home?userId=' + encodeURIComponent(u)) : await fetch('/v1/home', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ context: { country: document.getElementById('c').value, device: document.getElementById('d').value, onboardingGenres: document.getElementById('g').value.split(',').filter(Boolean) } }) });
  const home = await res.json();
  if (!res.ok) { out.textContent = JSON.stringify(home, null, 2); return; }
  out.innerHTML = '<p class="meta">request ' + home.requestId + ' for ' + home.userId + ', transforms ' + home.transformVersion + '</p>' + home.shelves.map((s) =>
    '<div class="shelf"><h2>' + s.title + ' <small class="meta">' + s.shelf + ' · ' + s.variant + ' · ' + s.modelVersion + '</small>' + (s.fallbackReason ? ' <small class="fallback">' + s.fallbackReason + '</small>' : '') + '</h2><div class="items">' +
    s.items.map((i) => '<div class="card"><b>' + i.title + (i.isNew ? '<span class="new">new</span>' : '') + '</b><div class="meta">' + i.type + ' · ' + i.id + ' · score ' + i.score.toFixed(3) + '</div><div>' + i.why + '</div></div>').join('') + '</div></div>').join('');
};
document.getElementById('f').requestSubmit();
</script></body></html>`;
