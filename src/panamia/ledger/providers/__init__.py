"""Ways money enters and leaves the platform; each moves it between `external:<provider>`
and members' accounts. Shipped: `manual`."""
