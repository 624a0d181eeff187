// The app shell: reads the address, renders the page into <main>, follows links in
// place (History API), and tells the browser (and the tests) when a page is ready.

import { apiKey, currentAccount, forgetCache, loadSession, post, setApiKey, setSession } from "./api";
import { announce, h, notice, replace } from "./dom";
import { leavePage, setNavigator } from "./nav";

export type Params = Record<string, string>;
export type PageRender = (main: HTMLElement, params: Params, url: URL) => Promise<void>;

interface Route {
  pattern: RegExp;
  title: string;
  load: () => Promise<PageRender>;
}

// The same page list as api/routes/web.py (the server answers each with this shell).
const ROUTES: Route[] = [
  { pattern: /^\/(?:search)?$/, title: "Search", load: async () => (await import("./pages/search")).render },
  { pattern: /^\/people\/(?<slug>[^/]+)$/, title: "Person", load: async () => (await import("./pages/person")).render },
  { pattern: /^\/initiatives\/(?<slug>[^/]+)$/, title: "Initiative", load: async () => (await import("./pages/initiative")).render },
  { pattern: /^\/nodes\/(?<id>[^/]+)$/, title: "Node", load: async () => (await import("./pages/node")).render },
  { pattern: /^\/sectors$/, title: "Councils", load: async () => (await import("./pages/sectors")).renderOverview },
  { pattern: /^\/sectors\/(?<slug>[^/]+)$/, title: "Sector", load: async () => (await import("./pages/sectors")).renderSector },
  { pattern: /^\/map$/, title: "Map of Co-creators", load: async () => (await import("./pages/map")).render },
  { pattern: /^\/graph(?:\/(?<id>[^/]+))?$/, title: "Graph explorer", load: async () => (await import("./pages/graph")).render },
  { pattern: /^\/communities$/, title: "Communities", load: async () => (await import("./pages/communities")).render },
  { pattern: /^\/editor$/, title: "Editor desk", load: async () => (await import("./pages/editor")).render },
  { pattern: /^\/join$/, title: "Join", load: async () => (await import("./pages/account")).renderJoin },
  { pattern: /^\/signin$/, title: "Sign in", load: async () => (await import("./pages/account")).renderSignIn },
  { pattern: /^\/verify$/, title: "Confirm your address", load: async () => (await import("./pages/account")).renderVerify },
  { pattern: /^\/reset$/, title: "New password", load: async () => (await import("./pages/account")).renderReset },
  { pattern: /^\/me$/, title: "My profile", load: async () => (await import("./pages/me")).render },
  { pattern: /^\/settings$/, title: "Settings", load: async () => (await import("./pages/settings")).render },
  { pattern: /^\/admin$/, title: "Admin", load: async () => (await import("./pages/admin")).render },
  { pattern: /^\/inbox$/, title: "Inbox", load: async () => (await import("./pages/inbox")).render },
  { pattern: /^\/matches$/, title: "My matches", load: async () => (await import("./pages/matches")).render },
  { pattern: /^\/digest$/, title: "My weekly digest", load: async () => (await import("./pages/digest")).render },
];

let generation = 0;

function setState(state: "loading" | "ready"): void {
  document.documentElement.dataset.state = state;
}

async function renderPage(url: URL, focus: boolean): Promise<void> {
  const mine = ++generation;
  leavePage();
  const main = document.getElementById("main") as HTMLElement;
  setState("loading");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const route = ROUTES.find((r) => r.pattern.test(path));
  const params: Params = {};
  for (const [k, v] of Object.entries(route?.pattern.exec(path)?.groups ?? {})) {
    if (v !== undefined) params[k] = decodeURIComponent(v);
  }
  markCurrent(path);
  replace(main, h("p", { class: "loading" }, "Loading…"));
  if (!route) {
    document.title = "Not found · Cocreate";
    replace(
      main,
      h("h1", null, "Page not found"),
      notice("info", "There is no page at this address. ", h("a", { href: "/" }, "Search the network")),
      h("ul", { class: "not-found-links", "aria-label": "Where to go" }, [["/map", "The map"], ["/communities", "Communities"], ["/sectors", "Sector councils"], ["/graph", "The graph explorer"]].map(([href, text]) => h("li", null, h("a", { href }, text)))),
    );
  } else {
    document.title = `${route.title} · Cocreate`;
    try {
      const render = await route.load();
      if (mine !== generation) return;
      const page = h("div", { class: "page" });
      replace(main, page);
      await render(page, params, url);
    } catch (error) {
      if (mine !== generation) return;
      replace(main, h("h1", null, route.title), notice("error", `This page could not be shown: ${String(error)}`));
    }
  }
  if (mine !== generation) return;
  const heading = main.querySelector("h1");
  if (heading && heading.textContent) {
    document.title = `${heading.textContent} · Cocreate`;
    announce(`${heading.textContent} loaded`);
  }
  if (focus) main.focus({ preventScroll: false });
  performance.mark("cocreate:ready");
  setState("ready");
}

function markCurrent(path: string): void {
  for (const link of document.querySelectorAll<HTMLAnchorElement>("header nav a")) {
    const target = new URL(link.href).pathname;
    const current = target === "/" ? path === "/" || path === "/search" : path === target || path.startsWith(`${target}/`);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** Go to an address of the app without reloading. */
function navigate(href: string, options: { replace?: boolean } = {}): void {
  const url = new URL(href, location.href);
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  void renderPage(url, !options.replace);
}
setNavigator(navigate);

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  const link = (event.target as Element | null)?.closest?.("a");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/v1/") || url.pathname.startsWith("/docs")) return;
  // A link within the page (the skip link, a table of contents) is the browser's to follow.
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  if (!ROUTES.some((r) => r.pattern.test(url.pathname.replace(/\/+$/, "") || "/"))) return;
  event.preventDefault();
  if (url.href === location.href) return;
  navigate(url.href);
});

window.addEventListener("popstate", () => void renderPage(new URL(location.href), true));

function showKeyStatus(): void {
  const el = document.getElementById("key-status");
  if (!el) return;
  if (apiKey()) {
    replace(
      el,
      "Using your API key ",
      h("button", { type: "button", class: "link-button", onclick: () => {
        setApiKey(null);
      } }, "Forget key"),
    );
    el.hidden = false;
  } else {
    replace(el);
    el.hidden = true;
  }
}

/** The header's account links: join and sign in, or the signed-in person's own pages. */
function showAccount(): void {
  const el = document.getElementById("account-status");
  if (!el) return;
  const account = currentAccount();
  if (!account) {
    const here = location.pathname === "/signin" || location.pathname === "/join" ? "" : `?next=${encodeURIComponent(location.pathname + location.search)}`;
    replace(el, h("a", { href: `/signin${here}` }, "Sign in"), " ", h("a", { class: "button", href: "/join" }, "Join"));
    return;
  }
  const signOut = h("button", { type: "button", class: "link-button" }, "Sign out");
  signOut.addEventListener("click", () => {
    void post("/v1/account/logout").finally(() => {
      setSession(null, null);
      navigate("/");
    });
  });
  const links = [
    h("a", { href: "/me" }, "My profile"),
    h("a", { href: "/matches" }, "My matches"),
    h("a", { href: "/inbox" }, "Inbox"),
    h("a", { href: "/settings" }, "Settings"),
  ];
  if (account.role === "admin") links.push(h("a", { href: "/admin" }, "Admin"));
  replace(el, h("span", { class: "account-name" }, account.name), ...links, signOut);
}

window.addEventListener("cocreate:key", () => {
  forgetCache();
  showKeyStatus();
});
window.addEventListener("cocreate:session", () => {
  showAccount();
  markCurrent(location.pathname.replace(/\/+$/, "") || "/");
});
showKeyStatus();
void loadSession().then(showAccount);
void renderPage(new URL(location.href), false);
