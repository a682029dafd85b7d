include   
