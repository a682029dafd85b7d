unset A[@x]
