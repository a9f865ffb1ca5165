// The print view's Print button (no inline script: the CSP forbids it).
document.getElementById("print-button")?.addEventListener("click", () => window.print());
