// The operator console's script, served as /console/console.js. Plain browser JavaScript (no
// build step): hash routes, DOM built with textContent only (HR data is never parsed as HTML), and
// every read or action is a call to the same public API routes any client uses, with the token the
// operator entered. The admin token lists tenants (/v1/admin/tenants); a tenant's own pages use
// that tenant's token, because the admin token never reads tenant data routes.
export const consoleScript = String.raw`
'use strict'
const store = window.sessionStorage
const tokens = {
  admin: () => store.getItem('kombo-sync.admin') || '',
  tenant: (t) => store.getItem('kombo-sync.tenant.' + t) || '',
  setAdmin: (v) => store.setItem('kombo-sync.admin', v),
  setTenant: (t, v) => store.setItem('kombo-sync.tenant.' + t, v),
  tenants: () => Object.keys(store).filter((k) => k.startsWith('kombo-sync.tenant.')).map((k) => k.slice('kombo-sync.tenant.'.length)),
  clear: () => store.clear(),
}

function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else if (k === 'text') el.textContent = String(v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  return el
}
const main = () => document.getElementById('main')
const show = (...nodes) => main().replaceChildren(...nodes)
const fmt = (v) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v))
const enc = encodeURIComponent

async function api(token, method, path, body) {
  const res = await fetch(path, {
    method,
    headers: Object.assign({ authorization: 'Bearer ' + token }, body ? { 'content-type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  let json = null
  try { json = text ? JSON.parse(text) : null } catch { json = null }
  if (!res.ok) {
    const err = new Error((json && json.error && (json.error.message || json.error.code)) || res.status + ' ' + res.statusText)
    err.status = res.status
    throw err
  }
  return json
}
const tenantApi = (t, method, rest, body) => api(tokens.tenant(t), method, '/v1/tenants/' + enc(t) + rest, body)
const list = (json) => (Array.isArray(json) ? json : (json && (json.data || json.tenants)) || [])
const errorBox = (err) => h('p', { class: 'error', role: 'alert', text: String(err.message || err) })

function table(columns, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'muted', text: empty })
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { text: c[0] })))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', {}, c[1](r)))))))
}

// ---- pages -------------------------------------------------------------------------------------
function loginPage(message) {
  const admin = h('input', { id: 'admin-token', type: 'password', autocomplete: 'off', placeholder: 'ADMIN_API_TOKEN (optional)' })
  const tenant = h('input', { id: 'tenant-id', placeholder: 'tenant id, e.g. demo' })
  const token = h('input', { id: 'tenant-token', type: 'password', autocomplete: 'off', placeholder: 'the tenant API token' })
  const submit = (e) => {
    e.preventDefault()
    if (admin.value) tokens.setAdmin(admin.value.trim())
    if (tenant.value && token.value) tokens.setTenant(tenant.value.trim(), token.value.trim())
    location.hash = tenant.value && token.value && !admin.value ? '#/t/' + enc(tenant.value.trim()) : '#/'
    route()
  }
  show(h('section', {},
    h('h1', { text: 'Sign in' }),
    message ? errorBox(message) : null,
    h('form', { onsubmit: submit },
      h('label', { for: 'admin-token', text: 'Admin token (all tenants)' }), admin,
      h('label', { for: 'tenant-id', text: 'Tenant' }), tenant,
      h('label', { for: 'tenant-token', text: 'Tenant token' }), token,
      h('p', {}, h('button', { class: 'primary', type: 'submit', id: 'sign-in', text: 'Sign in' })))))
}

async function tenantsPage() {
  const rows = []
  let adminError = null
  if (tokens.admin()) {
    try {
      for (const t of list(await api(tokens.admin(), 'GET', '/v1/admin/tenants'))) rows.push({ id: t.id || (t.tenant && t.tenant.id), admin: t })
    } catch (err) { adminError = err }
  }
  for (const id of tokens.tenants()) if (!rows.some((r) => r.id === id)) rows.push({ id })
  if (rows.length === 0 && !adminError) return loginPage()
  const health = await Promise.all(rows.map(async (r) => {
    if (!tokens.tenant(r.id)) return r.admin && r.admin.sync ? r.admin.sync : null
    try { return await tenantApi(r.id, 'GET', '/sync') } catch (err) { return { error: err.message } }
  }))
  show(h('section', {},
    h('h1', { text: 'Tenants' }),
    adminError ? errorBox(adminError) : null,
    table([
      ['Tenant', (r) => h('a', { href: '#/t/' + enc(r.id), class: 'tenant-link', text: r.id })],
      ['Integration', (r) => fmt(r.admin && (r.admin.integrationId || (r.admin.tenant && r.admin.tenant.integrationId)))],
      ['Sync', (r) => syncSummary(health[rows.indexOf(r)])],
    ], rows, 'No tenants.')))
}

function syncSummary(sync) {
  if (!sync) return h('span', { class: 'muted', text: 'sign in with this tenant’s token to see its sync' })
  if (sync.error) return h('span', { class: 'bad', text: sync.error })
  const resources = list(sync)
  const failing = resources.filter((r) => r.failing)
  const lag = Math.max(0, ...resources.map((r) => (typeof r.lagSeconds === 'number' ? r.lagSeconds : 0)))
  return h('span', { class: failing.length ? 'bad' : 'ok', text: failing.length ? failing.length + ' resource(s) failing' : 'healthy, lag ' + lag + ' s' })
}

async function tenantPage(t) {
  if (!tokens.tenant(t)) return loginPage('Enter the token of tenant "' + t + '" to see it.')
  const [sync, holds, letters] = await Promise.all([
    tenantApi(t, 'GET', '/sync').catch((e) => ({ error: e })),
    tenantApi(t, 'GET', '/holds').catch((e) => ({ error: e })),
    tenantApi(t, 'GET', '/dead-letters?limit=50').catch((e) => ({ error: e })),
  ])
  show(
    h('h1', { text: 'Tenant ' + t }),
    syncSection(sync),
    holdsSection(t, holds),
    deadLetterSection(t, letters),
    usersWithIssuesSection(t),
    userSearchSection(t),
  )
}

function syncSection(sync) {
  if (sync.error) return h('section', { id: 'sync' }, h('h2', { text: 'Sync' }), errorBox(sync.error))
  const initial = sync.initialSync
  const openHolds = sync.holds && sync.holds.open
  return h('section', { id: 'sync' },
    h('h2', { text: 'Sync' }),
    openHolds ? h('p', { class: 'bad', id: 'sync-holds', text: openHolds + ' open mass-deactivation hold(s): deactivations wait for an operator (below).' }) : null,
    initial ? h('p', { id: 'initial-sync' },
      'Initial sync: ' + fmt(initial.state) + ' — polled ' + fmt(initial.polled) + ', processed ' + fmt(initial.processed) + ', visible ' + fmt(initial.visible) +
      (initial.ratePerSecond ? ', ' + Math.round(initial.ratePerSecond) + ' records/s' : '') +
      (typeof initial.percent === 'number' ? ', ' + Math.round(initial.percent) + ' %' : ''),
      typeof initial.percent === 'number' ? h('progress', { max: 100, value: initial.percent }) : null) : null,
    table([
      ['Resource', (r) => fmt(r.resource)],
      ['Watermark', (r) => fmt(r.watermark)],
      ['Last success', (r) => fmt(r.lastSuccessAt)],
      ['Lag (s)', (r) => fmt(r.lagSeconds)],
      ['State', (r) => h('span', { class: r.failing ? 'bad' : 'ok', text: r.failing ? 'failing: ' + fmt(r.lastError) : 'ok' })],
    ], list(sync), 'Not polled yet.'))
}

// A message that outlives the refresh after an action (the page is re-rendered from the API, so a
// result or an error shown before route() would vanish with it).
const flash = { holds: null }
const lastActor = {
  get: () => store.getItem('kombo-sync.actor') || '',
  set: (v) => store.setItem('kombo-sync.actor', v),
}
const USERS_SHOWN = 20

function holdUsers(x) {
  const users = Array.isArray(x.users) ? x.users : []
  const shown = users.slice(0, USERS_SHOWN).join(', ') + (users.length > USERS_SHOWN ? ' … and ' + (users.length - USERS_SHOWN) + ' more' : '')
  return h('div', {}, h('strong', { class: 'hold-count', text: users.length + ' user' + (users.length === 1 ? '' : 's') }), h('div', { class: 'change hold-users', text: shown }))
}

function holdsSection(t, holds) {
  const section = h('section', { id: 'holds' }, h('h2', { text: 'Mass-deactivation holds' }))
  if (holds.error) {
    // 404: this API has no holds routes (no hold store configured); anything else is a real error.
    if (holds.error.status === 404) return section.append(h('p', { class: 'muted', text: 'Holds are not available on this API.' })), section
    return section.append(errorBox(holds.error)), section
  }
  const all = list(holds)
  const open = all.filter((x) => x.status === 'open')
  const decided = all.filter((x) => x.status !== 'open').slice(0, 10)
  const note = h('div', { id: 'hold-note' })
  section.append(note)
  if (flash.holds) note.append(flash.holds), (flash.holds = null)
  // Who decides is kept in the audit (the users' events and the hold): asked for every time,
  // prefilled with the name this tab used last.
  const actor = h('input', { id: 'hold-actor', autocomplete: 'off', placeholder: 'your name or email, for the audit', value: lastActor.get() || 'console' })
  const act = (hold, action, buttons) => async () => {
    const who = actor.value.trim()
    if (!who) return note.replaceChildren(errorBox('Enter who decides (kept in the audit) before you ' + action + ' a hold.')), actor.focus()
    const users = Array.isArray(hold.users) ? hold.users.length : 0
    const question = action === 'release'
      ? 'Release hold ' + hold.id + ': deactivate ' + users + ' user(s) now, audited as ' + who + '?'
      : 'Discard hold ' + hold.id + ': keep ' + users + ' user(s) active until their next change in the HR system, audited as ' + who + '?'
    if (!window.confirm(question)) return
    buttons.forEach((b) => (b.disabled = true))
    lastActor.set(who)
    try {
      const res = await tenantApi(t, 'POST', '/holds/' + enc(hold.id) + '/' + action, { actor: who })
      const done = (res && res.data) || hold
      flash.holds = h('p', { class: 'ok', role: 'status', id: 'hold-result', text: 'Hold ' + done.id + ' ' + fmt(done.status) + ' by ' + fmt(done.decidedBy) + ' (' + users + ' user(s)).' })
    } catch (err) {
      flash.holds = errorBox((action === 'release' ? 'Release' : 'Discard') + ' of hold ' + hold.id + ' failed: ' + (err.message || err) + (err.status ? ' (HTTP ' + err.status + ')' : ''))
    }
    route()
  }
  if (open.length) section.append(h('p', {}, h('label', { for: 'hold-actor', text: 'Decided by (kept in the audit)' }), actor))
  section.append(table([
    ['Hold', (x) => h('code', { class: 'hold-id', text: x.id })],
    ['Created', (x) => fmt(x.createdAt)],
    ['Users', holdUsers],
    ['Reason', (x) => fmt(x.reason)],
    ['', (x) => {
      const release = h('button', { class: 'primary release', type: 'button', 'data-hold': x.id, text: 'Release' })
      const discard = h('button', { class: 'discard', type: 'button', 'data-hold': x.id, text: 'Discard' })
      release.addEventListener('click', act(x, 'release', [release, discard]))
      discard.addEventListener('click', act(x, 'discard', [release, discard]))
      return h('span', { class: 'actions' }, release, ' ', discard)
    }],
  ], open, 'No open holds.'))
  if (decided.length) {
    section.append(h('h3', { text: 'Decided' }), h('div', { id: 'decided-holds' }, table([
      ['Hold', (x) => h('code', { class: 'hold-id', text: x.id })],
      ['Status', (x) => h('span', { class: 'hold-status ' + (x.status === 'released' ? 'ok' : 'muted'), text: x.status })],
      ['Decided', (x) => fmt(x.decidedAt) + ' by ' + fmt(x.decidedBy)],
      ['Users', holdUsers],
      ['Reason', (x) => fmt(x.reason)],
    ], decided, '')))
  }
  return section
}

function deadLetterSection(t, letters) {
  const section = h('section', { id: 'dead-letters' }, h('h2', { text: 'Dead letters' }))
  if (letters.error) return section.append(errorBox(letters.error)), section
  const redrive = (letter) => async () => {
    try {
      await tenantApi(t, 'POST', '/dead-letters/' + enc(letter.id) + '/redrive')
      route()
    } catch (err) { section.append(errorBox(err)) }
  }
  section.append(table([
    ['At', (l) => fmt(l.at)],
    ['Key', (l) => fmt(l.key)],
    ['Reason', (l) => fmt(l.reason)],
    ['', (l) => (l.redrivenAt ? h('span', { class: 'muted', text: 're-driven ' + l.redrivenAt }) : h('button', { class: 'redrive', onclick: redrive(l), text: 'Re-drive' }))],
  ], list(letters), 'No dead letters.'))
  return section
}

const issueKinds = ['duplicate_work_email', 'manager_not_found', 'missing_work_email', 'location_not_found', 'team_not_found']
function usersWithIssuesSection(t) {
  const body = h('div', {})
  const select = h('select', { id: 'issue', onchange: () => load() }, issueKinds.map((k) => h('option', { value: k, text: k.replaceAll('_', ' ') })))
  const load = async () => {
    try {
      const users = list(await tenantApi(t, 'GET', '/users?limit=50&issue=' + enc(select.value)))
      body.replaceChildren(userTable(t, users, 'No users with this issue.'))
    } catch (err) { body.replaceChildren(errorBox(err)) }
  }
  load()
  return h('section', { id: 'issues' }, h('h2', { text: 'Users with issues' }), select, body)
}

function userSearchSection(t) {
  const body = h('div', {})
  const q = h('input', { id: 'user-search', placeholder: 'name, email or job title' })
  const search = async (e) => {
    e.preventDefault()
    try {
      const users = list(await tenantApi(t, 'GET', '/users?limit=20' + (q.value ? '&q=' + enc(q.value) : '')))
      body.replaceChildren(userTable(t, users, 'No match.'))
    } catch (err) { body.replaceChildren(errorBox(err)) }
  }
  return h('section', { id: 'users' }, h('h2', { text: 'Users' }), h('form', { onsubmit: search }, q, ' ', h('button', { type: 'submit', text: 'Search' })), body)
}

function userTable(t, users, empty) {
  return table([
    ['Name', (u) => h('a', { href: '#/t/' + enc(t) + '/users/' + enc(u.externalId), class: 'user-link', text: u.displayName || u.externalId })],
    ['Email', (u) => fmt(u.email)],
    ['Status', (u) => fmt(u.status)],
    ['Issues', (u) => fmt((u.issues || []).join(', ') || '—')],
  ], users, empty)
}

async function timelinePage(t, id) {
  if (!tokens.tenant(t)) return loginPage('Enter the token of tenant "' + t + '" to see it.')
  const [user, history] = await Promise.all([tenantApi(t, 'GET', '/users/' + enc(id)).catch(() => null), tenantApi(t, 'GET', '/users/' + enc(id) + '/history')])
  const entries = list(history)
  show(
    h('p', {}, h('a', { href: '#/t/' + enc(t), text: '← tenant ' + t })),
    h('h1', { text: (user && user.displayName) || id }),
    user ? h('p', { class: 'muted', text: [user.jobTitle, user.email, user.status].filter(Boolean).join(' · ') }) : null,
    h('section', { id: 'timeline' }, h('h2', { text: 'Timeline' }),
      table([
        ['Recorded', (e) => fmt(e.recordedAt)],
        ['Event', (e) => fmt(e.type)],
        ['Change', (e) => changeOf(e)],
      ], entries, 'No events.')))
}

/** Field-level before → after where the API gives it, else the event's own fields. */
function changeOf(e) {
  const changes = Array.isArray(e.changes) ? e.changes : null
  if (changes && changes.length) return h('div', {}, changes.map((c) => h('div', { class: 'change', text: c.field + ': ' + fmt(c.before) + ' → ' + fmt(c.after) })))
  const data = Object.assign({}, e.data || {})
  for (const k of ['tenant', 'employeeId', 'entityId']) delete data[k]
  if (data.snapshot && typeof data.snapshot === 'object') {
    const s = data.snapshot
    const shown = ['display_full_name', 'job_title', 'work_email', 'employment_status', 'start_date', 'termination_date'].filter((k) => s[k] !== undefined && s[k] !== null)
    return h('div', { class: 'change', text: 'first snapshot: ' + shown.map((k) => k + ': ' + fmt(s[k])).join('; ') })
  }
  return h('div', { class: 'change', text: Object.keys(data).map((k) => k + ': ' + fmt(data[k])).join('; ') })
}

// ---- router ------------------------------------------------------------------------------------
async function route() {
  const signedIn = Boolean(tokens.admin() || tokens.tenants().length)
  const signOut = document.getElementById('sign-out')
  signOut.hidden = !signedIn
  document.getElementById('nav').replaceChildren(h('a', { href: '#/', text: 'Tenants' }))
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent)
  try {
    if (!signedIn) return loginPage()
    if (parts[0] === 't' && parts[1] && parts[2] === 'users' && parts[3]) return await timelinePage(parts[1], parts[3])
    if (parts[0] === 't' && parts[1]) return await tenantPage(parts[1])
    return await tenantsPage()
  } catch (err) {
    if (err.status === 401 || err.status === 403) return loginPage(err.message)
    show(errorBox(err))
  }
}
document.getElementById('sign-out').addEventListener('click', () => { tokens.clear(); location.hash = '#/'; route() })
window.addEventListener('hashchange', route)
route()
`
