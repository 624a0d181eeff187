// Navigation inside the app without a reload (main.ts installs the handler).

type Navigator = (href: string, options: { replace?: boolean }) => void;

let handler: Navigator = (href) => {
  location.assign(href);
};

export function setNavigator(navigate: Navigator): void {
  handler = navigate;
}

/** Go to an address of the app; `replace` keeps the history entry (filters, tabs). */
export function navigate(href: string, options: { replace?: boolean } = {}): void {
  handler(href, options);
}

let leaving: (() => void)[] = [];

/** Run `cleanup` when the visitor leaves the current page (maps, graphs). */
export function onLeave(cleanup: () => void): void {
  leaving.push(cleanup);
}

export function leavePage(): void {
  const pending = leaving;
  leaving = [];
  for (const cleanup of pending) {
    try {
      cleanup();
    } catch {
      // a page that is gone cannot fail the next one
    }
  }
}
