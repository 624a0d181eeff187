// The 17 Sustainable Development Goals: their official colours and short names.
//
// Colours: the hexadecimal values given for each goal's icon in the United Nations'
// "Sustainable Development Goals: Guidelines for the use of the SDG logo, including the
// colour wheel, and 17 icons" (UN Department of Global Communications). Names: the goals'
// official short titles. Both are facts, listed here so that the pages can show a goal as
// its icon's colour and number without fetching anything.

import { h } from "./dom";

export const SDG_COLOURS: Record<number, string> = {
  1: "#E5243B",
  2: "#DDA63A",
  3: "#4C9F38",
  4: "#C5192D",
  5: "#FF3A21",
  6: "#26BDE2",
  7: "#FCC30B",
  8: "#A21942",
  9: "#FD6925",
  10: "#DD1367",
  11: "#FD9D24",
  12: "#BF8B2E",
  13: "#3F7E44",
  14: "#0A97D9",
  15: "#56C02B",
  16: "#00689D",
  17: "#19486A",
};

export const SDG_NAMES: Record<number, string> = {
  1: "No Poverty",
  2: "Zero Hunger",
  3: "Good Health and Well-being",
  4: "Quality Education",
  5: "Gender Equality",
  6: "Clean Water and Sanitation",
  7: "Affordable and Clean Energy",
  8: "Decent Work and Economic Growth",
  9: "Industry, Innovation and Infrastructure",
  10: "Reduced Inequalities",
  11: "Sustainable Cities and Communities",
  12: "Responsible Consumption and Production",
  13: "Climate Action",
  14: "Life Below Water",
  15: "Life on Land",
  16: "Peace, Justice and Strong Institutions",
  17: "Partnerships for the Goals",
};

export const SDG_NUMBERS = Array.from({ length: 17 }, (_, i) => i + 1);

/** An HSL colour (hue in degrees, saturation and lightness from 0 to 1) as #rrggbb. */
export function hslHex(hue: number, saturation: number, lightness: number): string {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    const value = lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255).toString(16).padStart(2, "0");
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/**
 * Black or white, whichever reads better on the colour (WCAG relative luminance): one of
 * them is always at least 4.5:1, so text on any colour passes the contrast check.
 */
export function textOn(hex: string): string {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  // Contrast with white is 1.05 / (L + 0.05); with black (L + 0.05) / 0.05.
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? "#FFFFFF" : "#000000";
}

export function sdgNumber(id: string | number): number | null {
  if (typeof id === "number") return id >= 1 && id <= 17 ? id : null;
  const match = /^sdg:(\d{1,2})$/.exec(id);
  const n = match ? Number(match[1]) : NaN;
  return n >= 1 && n <= 17 ? n : null;
}

/**
 * A goal as a small badge in its icon's colour with its number; the name is in the
 * accessible label and the tooltip. `shared` marks a goal both sides have.
 */
export function sdgBadge(goal: number, options: { shared?: boolean; name?: string } = {}): HTMLElement {
  const colour = SDG_COLOURS[goal] ?? "#666666";
  const name = options.name || SDG_NAMES[goal] || `Goal ${goal}`;
  const label = `SDG ${goal}: ${name}${options.shared ? " (shared)" : ""}`;
  return h(
    "a",
    {
      class: `sdg-badge${options.shared ? " shared" : ""}`,
      href: `/nodes/sdg:${goal}`,
      title: label,
      "aria-label": label,
      "data-sdg": goal,
      style: { backgroundColor: colour, color: textOn(colour) },
    },
    h("span", { class: "sdg-number" }, String(goal)),
  );
}

export function sdgBadges(goals: number[], shared: Set<number> = new Set()): HTMLElement {
  const unique = [...new Set(goals)].sort((a, b) => a - b);
  return h(
    "span",
    { class: "sdg-badges" },
    unique.map((goal) => sdgBadge(goal, { shared: shared.has(goal) })),
  );
}
