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
        const link = h("a", { href: `#/post/${encodeURIComponent(p.platform)}/${encodeURIComponent(p.post_id)}` }, p.taken_at ? p.taken_at.slice(0, 16) : "—");
        body.append(h("tr", {}, [link, p.owner_handle || p.owner_id || "—",
          (p.caption || "").slice(0, 80), num(p.likes), num(p.comments)].map((c) => h("td", {}, c))));
      }
      cursor = doc.next_cursor;
      more.hidden = !cursor;
    };
    more.addEventListener("click", () => load().catch(fail));
    page("Posts", h("table", {}, h("thead", {}, h("tr", {}, ["taken", "author", "caption", "likes", "comments"].map((x) => h("th", {}, x)))), body), more);
    await load();
  }


  async function campaigns() {
    const list = h("div", { id: "campaign-list" });
    const detail = h("div", { id: "campaign-detail" });
    const show = async (name) => {
      const r = await api(ws(`/campaigns/${encodeURIComponent(name)}/report`));
      const chart = h("div", { class: "campaign-chart" });
      const series = { "new posts per day": [], counterfactual: [] };
      for (const p of r.rates_per_day) {
        series["new posts per day"].push([p.at, p.posts]);
        if (p.counterfactual !== null && p.counterfactual !== undefined) series.counterfactual.push([p.at, p.counterfactual]);
      }
      const u = r.uplift;
      detail.replaceChildren(h("h2", {}, `Campaign ${name}`), chart,
        h("p", { id: "uplift" }, u ? `Uplift during vs before: ${pct(u.estimate)} (${pct(u.low)} to ${pct(u.high)}), p = ${Number(u.p_value).toPrecision(2)}` : "Not enough data for an uplift test."),
        table(["period", "new posts", "posts seen", "authors", "likes", "comments", "engagement rate", "sentiment"],
          r.periods.map((p) => [p.name, num(p.new_posts), num(p.posts_seen), num(p.unique_authors), num(p.likes), num(p.comments), p.engagement_rate === null ? "—" : pct(p.engagement_rate), p.sentiment === null ? "—" : Number(p.sentiment).toFixed(2)])),
        h("h3", {}, "Top posts during the campaign"),
        h("div", { class: "thumbs" }, (r.periods.find((p) => p.name === "during") || { top_posts: [] }).top_posts.map((t) =>
          h("a", { href: `#/post/${encodeURIComponent(t.platform || "instagram")}/${encodeURIComponent(t.post_id)}`, class: "thumb" },
            h("img", { src: `${API}${ws(`/posts/${encodeURIComponent(t.platform || "instagram")}/${encodeURIComponent(t.post_id)}/media/0/thumbnail`)}`, alt: "", loading: "lazy" }),
            h("span", {}, `${t.owner || ""} · ${num(t.likes)} likes`)))));
      TagpulseCharts.line(chart, series, { title: "campaign", zero: true });
    };
    const refresh = async () => {
      const doc = await api(ws("/campaigns"));
      list.replaceChildren(doc.items.length ? table(["campaign", "tags", "from", "to", ""], doc.items.map((c) => [c.name, c.tags.map((t) => "#" + t).join(" "), c.start.slice(0, 16), c.end.slice(0, 16),
        h("button", { "data-campaign": c.name, onclick: () => show(c.name).catch(fail) }, "report")])) : h("p", { class: "muted" }, "No campaigns yet."));
    };
    const name = h("input", { id: "campaign-name", placeholder: "name" });
    const tags = h("input", { id: "campaign-tags", placeholder: "tags, comma separated" });
    const start = h("input", { id: "campaign-start", type: "date" });
    const end = h("input", { id: "campaign-end", type: "date" });
    const form = h("form", { id: "new-campaign", class: "controls", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api(ws("/campaigns"), { method: "POST", body: { name: name.value, tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean), start: start.value + "T00:00:00Z", end: end.value + "T00:00:00Z" } });
        await refresh();
        await show(name.value);
      } catch (err) { fail(err); }
    } }, name, tags, start, end, h("button", { type: "submit" }, "Create"));
    page("Campaigns", canWrite() ? form : "", list, detail);
    await refresh();
  }

  async function influencers() {
    const doc = await api(ws("/insights/influencers?top=25"));
    page("Influencers",
      h("p", { class: "muted" }, "Score = reach + engagement (vs the follower band's norm) + consistency + PageRank centrality; ⚠ = suspicious audience."),
      table(["rank", "account", "posts", "followers", "engagement", "consistency", "centrality", "score", "flags"],
        doc.accounts.map((a, i) => [String(i + 1), a.handle ? "@" + a.handle : a.account, num(a.posts), num(a.followers),
          a.engagement_rate === null ? "—" : pct(a.engagement_rate), num(a.consistency), num(a.centrality), num(a.score),
          a.flags.map((f) => "⚠ " + f.reason).join("; ")])));
    document.querySelector("main table").id = "influencer-table";
  }

  async function sentimentPage() {
    const doc = await api(ws("/insights/sentiment?interval=1d"));
    const root = page("Sentiment");
    for (const p of doc.platforms) {
      if (!p.n) { root.append(h("p", { class: "muted" }, `${p.platform}: no enriched captions or comments (run tagpulse enrich).`)); continue; }
      const chart = h("div", { class: "sentiment-chart" });
      root.append(h("h2", {}, p.platform), chart,
        p.shifts.length ? table(["shift at", "before", "after", "p"], p.shifts.map((s) => [s.at.slice(0, 16), num(s.mean_before), num(s.mean_after), Number(s.p_value).toPrecision(2)])) : h("p", { class: "muted" }, "No shift."),
        h("h3", {}, "Most positive"), table(["sentiment", "text"], p.most_positive.map((i) => [num(i.sentiment), (i.text || "").slice(0, 120)])),
        h("h3", {}, "Most negative"), table(["sentiment", "text"], p.most_negative.map((i) => [num(i.sentiment), (i.text || "").slice(0, 120)])));
      TagpulseCharts.line(chart, { "mean sentiment": p.points.map((x) => [x.at, x.mean]) }, { title: "sentiment" });
    }
  }

  async function feedPage() {
    const accounts = (await api(ws("/watchlist"))).items.filter((i) => i.kind === "account");
    const root = page("Feed");
    if (!accounts.length) { root.append(h("p", { class: "muted" }, "Watch an @account to see its personalised feed.")); return; }
    const who = h("select", { id: "feed-account" }, accounts.map((a) => h("option", { value: `${a.platform}/${a.entry}` }, `${a.entry} (${a.platform})`)));
    who.value = sessionStorage.getItem("feed-account") || who.value;
    if (!who.value) who.selectedIndex = 0;
    const source = h("select", { id: "feed-source" }, ["blend", "network", "fof", "interests", "als", "popular"].map((v) => h("option", { value: v }, v)));
    const list = h("div", { id: "feed-items" });
    const draw = async () => {
      sessionStorage.setItem("feed-account", who.value);
      const [platform, entry] = [who.value.slice(0, who.value.indexOf("/")), who.value.slice(who.value.indexOf("/") + 1)];
      const q = new URLSearchParams({ n: "20", source: source.value, platform: platform });
      try {
        const f = await api(ws(`/feed/${encodeURIComponent(entry)}?${q}`));
        const rows = f.items.map((i, k) => [String(k + 1),
          h("a", { href: `#/post/${encodeURIComponent(i.platform)}/${encodeURIComponent(i.post_id)}`, "data-post": i.post_id }, i.post_id),
          i.author_handle ? "@" + i.author_handle : i.author, i.taken_at.slice(0, 16), num(i.likes), i.source, i.reason]);
        list.replaceChildren(h("p", { class: "muted" }, `As of ${f.at.slice(0, 16)} · ${num(f.candidates)} candidates in the last ${f.window_days} days`),
          rows.length ? table(["#", "post", "author", "taken", "likes", "source", "reason"], rows) : h("p", { class: "muted" }, "No recent posts from this source."));
        const t = list.querySelector("table");
        if (t) t.id = "feed-table";
      } catch (err) { list.replaceChildren(h("p", { class: "error", role: "alert" }, err.message)); }
      list.dataset.shown = `${who.value} ${source.value}`;
    };
    who.addEventListener("change", draw);
    source.addEventListener("change", draw);
    root.append(h("div", { class: "controls" }, "Account ", who, " Source ", source),
      h("p", { class: "muted" }, "Recent posts for a watched account: its network (personalised PageRank), friends of friends, its hashtags, people with similar likes (ALS) and popular posts, blended; each with its source and reason."), list);
    await draw();
  }

  async function postDetail(platform, id) {
    const doc = await api(ws(`/posts/${encodeURIComponent(platform)}/${encodeURIComponent(id)}`));
    const p = doc.post;
    const chart = h("div", { class: "post-chart" });
    page(`Post ${id}`,
      h("p", {}, `${p.owner_handle ? "@" + p.owner_handle : p.owner_id || ""} · ${p.taken_at ? p.taken_at.slice(0, 16) : ""}`),
      h("p", { class: "caption" }, p.caption || ""),
      h("div", { class: "thumbs" }, doc.media.filter((m) => m.thumbnail).map((m) => h("img", { src: `${API}${ws(`/posts/${encodeURIComponent(platform)}/${encodeURIComponent(id)}/${m.thumbnail}`)}`, alt: "" }))),
      h("h2", {}, "Image labels"),
      doc.labels.length ? table(["picture", "top label", "score", "top-5", "faces", "smiles"], doc.labels.map((l) => [String(l.media_index), l.top_label || l.error || "—", num(l.top_score),
        (l.labels || []).map((x) => `${x.label} ${(x.score * 100).toFixed(0)}%`).join(", "), num(l.faces), num(l.smiles)])) : h("p", { class: "muted" }, "Not labelled yet (tagpulse enrich)."),
      h("h2", {}, "Caption"),
      doc.text ? table(["language", "sentiment", "keywords"], [[doc.text.language || "—", num(doc.text.sentiment), (doc.text.keywords || []).join(", ")]]) : h("p", { class: "muted" }, "Not enriched yet."),
      h("h2", {}, "Engagement over time"), chart);
    document.querySelector("main table") && (document.querySelector("main table").id = "label-table");
    TagpulseCharts.line(chart, { likes: doc.history.map((x) => [x.at, x.likes || 0]), comments: doc.history.map((x) => [x.at, x.comments || 0]) }, { title: "engagement", zero: true });
  }

  const PAGES = { "/login": login, "/timelines": timelines, "/watchlist": watchlist, "/share": share, "/spikes": spikes, "/posts": posts,
    "/campaigns": campaigns, "/influencers": influencers, "/sentiment": sentimentPage, "/feed": feedPage };

  async function route() {
    const path = location.hash.replace(/^#/, "") || "/timelines";
    if (!state.me && path !== "/login") {
      try { state.me = await api("/auth/me"); start(); } catch (err) { location.hash = "#/login"; if (path === "/login") login(); return; }
    }
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.getAttribute("href") === "#" + path);
    const post = path.match(/^\/post\/([^/]+)\/([^/]+)$/);
    const show = post ? () => postDetail(decodeURIComponent(post[1]), decodeURIComponent(post[2])) : PAGES[path] || timelines;
    try { await show(); } catch (err) { fail(err); }
    document.body.dataset.page = post ? "post" : path.slice(1);
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
