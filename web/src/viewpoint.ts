// The visitor's viewpoint: a person (or any node) from which search shows paths in the
// graph. Only a public id and name, kept in this browser's localStorage.

const KEY = "cocreate.viewpoint";

export interface Viewpoint {
  id: string;
  name: string;
  kind: string;
}

export function viewpoint(): Viewpoint | null {
  try {
    const found = JSON.parse(localStorage.getItem(KEY) ?? "null") as Viewpoint | null;
    return found && typeof found.id === "string" && typeof found.name === "string" ? found : null;
  } catch {
    return null;
  }
}

export function setViewpoint(value: Viewpoint): void {
  localStorage.setItem(KEY, JSON.stringify({ id: value.id, name: value.name, kind: value.kind }));
}

export function clearViewpoint(): void {
  localStorage.removeItem(KEY);
}
