// The OpenAPI reference, rendered by Scalar (@scalar/api-reference). This module and the renderer are one lazily
// loaded chunk: only the API page imports it, so the catalog never downloads the renderer.
import { useEffect, useRef } from 'react';
import { createApiReference } from '@scalar/api-reference';
import '@scalar/api-reference/style.css';

export default function Reference({ document, servers }: { document: Record<string, unknown>; servers: Array<{ url: string; description: string }> }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const app = createApiReference(el.current, {
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
    });
    return () => app.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [document, JSON.stringify(servers)]);
  return <div ref={el} className="reference" />;
}
