// The book theme draws its own buttons above the article; the PyData header it inherits (hidden, adv_kt.css)
// holds copies, and the theme's scripts wire only the first sidebar toggle on the page: drop the copies.
document.querySelectorAll('#pst-header .sidebar-toggle').forEach(b => b.remove());
