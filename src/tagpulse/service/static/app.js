// tagpulse dashboard: a few pages over the REST API; every number comes from /api/v1.
"use strict";
(function () {
  const API = "/api/v1";
  const state = { me: null, workspace: null };
  const main = () => document.getElementById("main");

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  async function api(path, opts) {
    opts = opts || {};
    const headers = { Accept: "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.method && opts.method !== "GET" && state.me) headers["X-CSRF-Token"] = state.me.csrf;
    const answer = await fetch(API + path, { method: opts.method || "GET", headers: headers,
      credentials: "same-origin", body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    if (answer.status === 401 && !path.startsWith("/auth/")) { state.me = null; location.hash = "#/login"; throw new Error("signed out"); }
    if (answer.status === 204) return null;
    const doc = await answer.json();
    if (!answer.ok) throw new Error(doc.error ? doc.error.message : answer.statusText);
    return doc;
  }

  const ws = (path) => `/workspaces/${encodeURIComponent(state.workspace)}${path}`;
  const canWrite = () => state.me && ["admin", "analyst"].includes(state.me.roles[state.workspace]);

  function page(title, ...children) {
    const root = main();
    root.replaceChildren(h("h1", {}, title), ...children);
    return root;
  }

  function fail(error) {
    main().append(h("p", { class: "error", role: "alert" }, String(error.message || error)));
  }

  function table(headers, rows) {
    return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c === null || c === undefined ? "—" : c))))));
  }

  const num = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("en", { maximumFractionDigits: 2 }));
  const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");

  // --- pages ---------------------------------------------------------------------------------
  function login() {
    document.getElementById("nav").hidden = true;
    const user = h("input", { name: "user", autocomplete: "username", required: "" });
    const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: "" });
    const error = h("p", { class: "error", role: "alert" });
    const form = h("form", { class: "login", onsubmit: async (e) => {
      e.preventDefault();
      try {
        state.me = await api("/auth/login", { method: "POST", body: { user: user.value, password: password.value } });
        start();
        location.hash = "#/timelines";
      } catch (err) { error.textContent = err.message; }
    } }, h("label", {}, "User ", user), h("label", {}, "Password ", password), h("button", { type: "submit" }, "Log in"), error);
    page("Log in", form);
  }

  async function timelines() {
    const since = h("select", { id: "range" }, ["1d", "7d", "14d", "30d", "all"].map((v) => h("option", { value: v }, v)));
    since.value = sessionStorage.getItem("range") || "all";
    const interval = h("select", { id: "interval" }, ["15m", "1h", "6h", "1d"].map((v) => h("option", { value: v }, v)));
    interval.value = sessionStorage.getItem("interval") || "1h";
    const holder = h("div", { id: "timeline-chart" });
    const draw = async () => {
      sessionStorage.setItem("range", since.value);
      sessionStorage.setItem("interval", interval.value);
      const q = new URLSearchParams({ interval: interval.value });
      if (since.value !== "all") q.set("since", since.value);
      try {
        const doc = await api(ws("/timelines?" + q));
        holder.replaceChildren();
        TagpulseCharts.line(holder, doc.series, { title: "post count" });
      } catch (err) { fail(err); }
    };
    since.addEventListener("change", draw);
    interval.addEventListener("change", draw);
    page("Hashtag timelines", h("div", { class: "controls" }, "Range ", since, " Interval ", interval),
      h("p", { class: "muted" }, "Max post count per interval, one line per watched tag."), holder);
    await draw();
  }

  async function watchlist() {
    const list = h("div", { id: "watchlist" });
    const refresh = async () => {
      const doc = await api(ws("/watchlist"));
      list.replaceChildren(table(["platform", "entry", "kind", "interval", ""], doc.items.map((i) => [
        i.platform, i.entry, i.kind, `${Math.round(i.interval_s / 60)} min`,
        canWrite() ? h("button", { "data-entry": i.entry, onclick: async () => {
          try { await api(ws(`/watchlist/${encodeURIComponent(i.platform)}/${encodeURIComponent(i.entry)}`), { method: "DELETE" }); await refresh(); } catch (err) { fail(err); }
        } }, "remove") : "",
      ])));
    };
    const entry = h("input", { id: "new-entry", placeholder: "nike, tiktok:#nike or @handle" });
    const minutes = h("input", { id: "new-interval", type: "number", min: "1", value: "15", class: "narrow" });
    const add = h("form", { id: "add-entry", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api(ws("/watchlist"), { method: "POST", body: { entry: entry.value, interval_s: Number(minutes.value) * 60 } });
        entry.value = "";
        await refresh();
      } catch (err) { fail(err); }
    } }, entry, " every ", minutes, " min ", h("button", { type: "submit" }, "Add"));
    page("Watchlist", canWrite() ? add : h("p", { class: "muted" }, "Viewers cannot change the watchlist."), list);
    await refresh();
  }

  async function share() {
    const doc = await api(ws("/insights/share?interval=1d"));
    const root = page("Share of voice");
    if (!doc.platforms.length) root.append(h("p", { class: "muted" }, "Share of voice needs two watched tags or more."));
    for (const p of doc.platforms) {
      const pie = h("div", { class: "pie" });
      const area = h("div", { class: "area" });
      root.append(h("h2", {}, p.platform || ""), pie, area,
        table(["tag", "new posts", "share", "engagement", "share"], p.tags.map((t) => ["#" + t.tag, num(t.posts), pct(t.posts_share), num(t.engagement), pct(t.engagement_share)])));
      TagpulseCharts.pie(pie, p.tags.map((t) => ({ label: "#" + t.tag, value: t.posts || 0 })), { title: "new posts" });
      const hashed = p.over_time.map(([at, shares]) => [at, Object.fromEntries(Object.entries(shares).map(([k, v]) => ["#" + k, v]))]);
      TagpulseCharts.area(area, p.tags.map((t) => "#" + t.tag), hashed, { title: "share over time" });
    }
  }

  async function spikes() {
    const doc = await api(ws("/insights/spikes"));
    page("Spikes",
      h("h2", {}, "Posts far above their author's usual"),
      doc.posts.length ? table(["post", "author", "likes", "likes z", "comments z"], doc.posts.map((p) => [p.post_id, p.owner, num(p.likes), num(p.likes_z), num(p.comments_z)])) : h("p", { class: "muted" }, "No post spikes."),
      h("h2", {}, "Hashtag count anomalies"),
      doc.tags.length ? table(["tag", "at", "posts/day", "z"], doc.tags.map((a) => ["#" + a.tag, a.at.slice(0, 16), num(a.rate_per_day), num(a.z)])) : h("p", { class: "muted" }, "No anomalies."));
  }

  async function posts() {
    const body = h("tbody", { id: "post-rows" });
    const more = h("button", { id: "more" }, "More");
    let cursor = null;
    const load = async () => {
      const q = new URLSearchParams({ limit: "25" });
      if (cursor) q.set("cursor", cursor);
      const doc = await api(ws("/posts?" + q));
      for (const p of doc.items) {
        body.append(h("tr", {}, [p.taken_at ? p.taken_at.slice(0, 16) : "—", p.owner_handle || p.owner_id || "—",
          (p.caption || "").slice(0, 80), num(p.likes), num(p.comments)].map((c) => h("td", {}, c))));
      }
      cursor = doc.next_cursor;
      more.hidden = !cursor;
    };
    more.addEventListener("click", () => load().catch(fail));
    page("Posts", h("table", {}, h("thead", {}, h("tr", {}, ["taken", "author", "caption", "likes", "comments"].map((x) => h("th", {}, x)))), body), more);
    await load();
  }

  const PAGES = { "/login": login, "/timelines": timelines, "/watchlist": watchlist, "/share": share, "/spikes": spikes, "/posts": posts };

  async function route() {
    const path = location.hash.replace(/^#/, "") || "/timelines";
    if (!state.me && path !== "/login") {
      try { state.me = await api("/auth/me"); start(); } catch (err) { location.hash = "#/login"; if (path === "/login") login(); return; }
    }
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.getAttribute("href") === "#" + path);
    const show = PAGES[path] || timelines;
    try { await show(); } catch (err) { fail(err); }
    document.body.dataset.page = path.slice(1);
    document.body.dataset.ready = String(Date.now());
  }

  function start() {
    document.getElementById("nav").hidden = false;
    const select = document.getElementById("workspace");
    const names = Object.keys(state.me.roles);
    state.workspace = names.includes(sessionStorage.getItem("workspace")) ? sessionStorage.getItem("workspace") : names[0];
    select.replaceChildren(...names.map((n) => h("option", { value: n }, `${n} (${state.me.roles[n]})`)));
    select.value = state.workspace;
    select.hidden = false;
    select.onchange = () => { state.workspace = select.value; sessionStorage.setItem("workspace", select.value); route(); };
    document.getElementById("who").textContent = state.me.user;
    const out = document.getElementById("logout");
    out.hidden = false;
    out.onclick = async () => { await api("/auth/logout", { method: "POST" }).catch(() => null); state.me = null; location.hash = "#/login"; };
  }

  window.addEventListener("hashchange", route);
  window.addEventListener("DOMContentLoaded", route);
})();
