// The OpenAPI reference, rendered by Scalar (@scalar/api-reference). This module and the renderer are one lazily
// loaded chunk: only the API page imports it, so the catalog never downloads the renderer.
//
// Accessibility (axe-core, WCAG 2 A/AA, serious and critical): Scalar's defaults fail five rules on our API page.
// They are fixed here in order of preference: configuration, then CSS passed through Scalar's `customCss`, then a
// small post-render fix-up for what neither can reach (each fix names the axe rule it addresses).
import { useEffect, useRef } from 'react';
import { createApiReference } from '@scalar/api-reference';
import '@scalar/api-reference/style.css';

// customCss is emitted outside Scalar's `@layer scalar-theme`, so these win over the theme without !important.
const REFERENCE_CSS = `
/* color-contrast: Scalar's light theme greys (#757575 on #f6f6f6, #8e8e8e on #fff) and its method/syntax colours
   (blue #0082d0, green #069061, orange #ff5800, ...) fall below 4.5:1. These keep the hues and reach >= 4.5:1 on
   --scalar-background-1/-2 (#fff, #f6f6f6). */
.reference .scalar-app {
  --scalar-color-2: #5e5e5e;
  --scalar-color-3: #666666;
  --scalar-color-accent: #006db3;
  --scalar-color-blue: #006db3;
  --scalar-color-green: #00774f;
  --scalar-color-orange: #b83800;
  --scalar-color-red: #c4001a;
  --scalar-color-yellow: #7d5a00;
}
/* aria-required-children: the introduction's "Client Libraries" card is a tablist whose "More" combobox button is
   not a tab. Each operation's example keeps its own client picker, so the card is not needed. */
.reference .scalar-reference-intro-clients { display: none; }
`;

/** Accessible names Scalar leaves out; run after every render of the reference (it renders lazily). */
function fixAccessibleNames(root: HTMLElement): void {
  // button-name: the copy button of code blocks has only an icon (its "Copy" label is aria-hidden).
  for (const b of root.querySelectorAll<HTMLButtonElement>('button.scalar-code-copy:not([aria-label])')) b.setAttribute('aria-label', 'Copy code');
  // aria-input-field-name: the authentication card's "Name" field is a CodeMirror textbox; its <label for> points at
  // the editor's wrapper, not at the role="textbox" element, so the textbox has no name.
  for (const t of root.querySelectorAll<HTMLElement>('.cm-content[role="textbox"]:not([aria-label]):not([aria-labelledby])')) {
    const wrapper = t.closest<HTMLElement>('[id]');
    const label = wrapper ? root.querySelector<HTMLLabelElement>(`label[for="${CSS.escape(wrapper.id)}"]`) : null;
    const name = label?.textContent?.trim() || t.getAttribute('aria-placeholder');
    if (name) t.setAttribute('aria-label', name);
  }
}

export default function Reference({ document, servers }: { document: Record<string, unknown>; servers: Array<{ url: string; description: string }> }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const root = el.current;
    if (!root) return;
    const app = createApiReference(root, {
      content: document,
      servers, // the gateway URLs of this version, not the upstream the document names
      showSidebar: false,
      hideClientButton: true,
      hideTestRequestButton: true, // the portal's own try-it panel goes through the gateway with the user's key
      hideDarkModeToggle: true,
      forceDarkModeState: 'light',
      withDefaultFonts: false, // no font download from a third-party host
      telemetry: false,
      documentDownloadType: 'json',
      showDeveloperTools: 'never', // no share/upload buttons that post the document to a third party
      agent: { disabled: true }, // no AI chat that calls a third-party service
      // label-content-name-mismatch: a collapsed tag's "Show More" button is named "Show all <tag> endpoints";
      // with every tag open there is no such button
      defaultOpenAllTags: true,
      // nested-interactive: each model's expand button contains a "Copy link" button; the schemas stay visible
      // where they are used (request body, "Show Schema" of each response)
      hideModels: true,
      customCss: REFERENCE_CSS,
    });
    fixAccessibleNames(root);
    const observer = new MutationObserver(() => fixAccessibleNames(root));
    observer.observe(root, { childList: true, subtree: true });
    return () => {
      observer.disconnect();
      app.destroy();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [document, JSON.stringify(servers)]);
  return <div ref={el} className="reference" />;
}
