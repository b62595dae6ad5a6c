// The sign-in page's language switch: nobody is signed in yet, so the choice goes into the cookie
// the server reads (signing in then keeps it until the user picks another language in the app).

for (const button of document.querySelectorAll("[data-set-locale]")) {
  button.addEventListener("click", () => {
    const base = location.pathname.replace(/\/login$/, "/") || "/";
    document.cookie = `hunter_lang=${button.dataset.setLocale}; Path=${base}; Max-Age=31536000; SameSite=Lax`;
    location.reload();
  });
}
