// The operator console's page shell: no data in it. Everything it shows comes from the public API
// routes, called by console-script with the token the operator enters (kept in sessionStorage).
export const consoleHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kombo-sync console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
<header>
  <a href="#/" class="brand">kombo-sync</a>
  <nav id="nav"></nav>
  <button id="sign-out" type="button" hidden>Sign out</button>
</header>
<main id="main"><p>Loading…</p></main>
<script src="/console/console.js"></script>
</body>
</html>
`

export const consoleCss = `
:root { font-family: system-ui, sans-serif; color: #1d2430; background: #f6f7f9; }
body { margin: 0; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #1d2430; color: #fff; }
header a { color: #fff; text-decoration: none; }
.brand { font-weight: 700; }
nav { display: flex; gap: 1rem; flex: 1; }
main { padding: 1.2rem; max-width: 1200px; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin: .2rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eef0f3; vertical-align: top; }
.ok { color: #137333; } .bad { color: #b3261e; font-weight: 600; } .muted { color: #6b7280; }
button { cursor: pointer; padding: .25rem .7rem; border-radius: 4px; border: 1px solid #9aa3b0; background: #fff; }
button.primary { background: #1a56db; color: #fff; border-color: #1a56db; }
label { display: block; margin: .5rem 0 .2rem; }
input { padding: .35rem; width: 28rem; max-width: 100%; }
.error { color: #b3261e; white-space: pre-wrap; }
.change { font-family: ui-monospace, monospace; font-size: .85rem; }
progress { width: 12rem; }
h3 { font-size: .95rem; margin: .9rem 0 .3rem; }
code { font-family: ui-monospace, monospace; font-size: .85rem; }
.hold-users { color: #4b5563; max-width: 28rem; overflow-wrap: anywhere; }
.actions { white-space: nowrap; }
button:disabled { opacity: .5; cursor: default; }
#hold-actor { width: 18rem; margin-left: .5rem; }
#holds label { display: inline; }
`
